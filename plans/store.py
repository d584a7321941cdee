"""Plans kept in the database: each make or adjustment is a new version (author, time), one version is approved.

Library functions take the caller's connection and write inside its transaction.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

from geo.models import PatrolPlan, PatrolPlanRoute, PatrolPlanStop, PatrolPlanVersion
from layers._frames import read_frame
from plans.errors import PlanError
from plans.planner import Plan


def save_plan(conn: Connection, plan: Plan, author: str, plan_id: int | None = None) -> tuple[int, int]:
    """Store ``plan`` as the next version of ``plan_id`` (or as a new plan); returns (plan id, version)."""
    request = plan.request
    if plan_id is None:
        plan_id = conn.execute(
            insert(PatrolPlan.__table__)
            .values(squad_code=request.squad, plan_date=request.date, shift=request.shift, created_by=author)
            .returning(PatrolPlan.__table__.c.id)
        ).scalar_one()
        version = 1
    else:
        row = conn.execute(
            text("SELECT max(v.version) FROM patrol_plan_versions v WHERE v.plan_id = :p"), {"p": plan_id}
        ).first()
        version = int(row[0] or 0) + 1
        conn.execute(text("UPDATE patrol_plans SET status = 'draft' WHERE id = :p"), {"p": plan_id})
    version_id = conn.execute(
        insert(PatrolPlanVersion.__table__)
        .values(
            plan_id=plan_id,
            version=version,
            author=author,
            params=request.as_dict(),
            summary={**plan.summary, "messages": plan.messages},
        )
        .returning(PatrolPlanVersion.__table__.c.id)
    ).scalar_one()
    for route in plan.routes:
        conn.execute(
            insert(PatrolPlanRoute.__table__).values(
                version_id=version_id,
                chief_code=route.chief_code,
                length_m=route.length_m,
                duration_s=route.duration_s,
                start_at=route.start_at,
                geom=f"SRID=4326;MULTILINESTRING(({', '.join(f'{x} {y}' for x, y in route.geometry.coords)}))"
                if route.geometry is not None
                else None,
            )
        )
        if route.stops:
            conn.execute(
                insert(PatrolPlanStop.__table__),
                [
                    dict(
                        version_id=version_id,
                        chief_code=route.chief_code,
                        seq=s.seq,
                        segment_id=s.segment_id,
                        segment_key=s.segment_key,
                        segment_name=s.name,
                        reversed=s.reversed,
                        arrive_at=s.arrive_at,
                        leave_at=s.leave_at,
                        prize=s.prize,
                        reasons=s.reasons,
                    )
                    for s in route.stops
                ],
            )
    return plan_id, version


def approve(conn: Connection, plan_id: int, version: int, approver: str, when: dt.datetime | None = None) -> None:
    """Approve one version of a plan (the plan becomes ``approved``; the approver and time are kept).

    Raises
    ------
    PlanError
        When the version does not exist, or one of its segments was deleted since it was made.
    """
    row = conn.execute(
        text("SELECT id FROM patrol_plan_versions WHERE plan_id = :p AND version = :v"), {"p": plan_id, "v": version}
    ).first()
    if row is None:
        raise PlanError("unknown_plan", f"没有计划 {plan_id} 的第 {version} 版 (no such plan version)")
    missing = deleted_stops(conn, row[0])
    if len(missing):
        names = "、".join(missing["segment_name"].fillna(missing["segment_key"]).tolist())
        raise PlanError("segment_deleted", f"计划中的路段已被删除：{names}，请调整后再审批 (segments were deleted)")
    conn.execute(
        text("UPDATE patrol_plan_versions SET approved_by = :a, approved_at = COALESCE(:t, now()) WHERE id = :id"),
        {"a": approver, "t": when, "id": row[0]},
    )
    conn.execute(text("UPDATE patrol_plans SET status = 'approved' WHERE id = :p"), {"p": plan_id})


def deleted_stops(conn: Connection, version_id: int) -> pd.DataFrame:
    """Stops of a version whose segment no longer exists (chief, order, key and name as stored)."""
    return read_frame(
        conn,
        """SELECT chief_code, seq, segment_key, segment_name FROM patrol_plan_stops
           WHERE version_id = :v AND segment_id IS NULL ORDER BY chief_code, seq""",
        {"v": version_id},
    )


def versions(conn: Connection, plan_id: int) -> pd.DataFrame:
    """Every version of a plan with author, time and approval (the audit trail)."""
    return read_frame(
        conn,
        """SELECT id, version, author, created_at, approved_by, approved_at FROM patrol_plan_versions
           WHERE plan_id = :p ORDER BY version""",
        {"p": plan_id},
    )


def stops(conn: Connection, plan_id: int, version: int | None = None) -> pd.DataFrame:
    """The stops of a version (default: the latest), in order per chief."""
    return read_frame(
        conn,
        """SELECT s.chief_code, s.seq, s.segment_id, s.segment_key, s.segment_name, s.arrive_at, s.leave_at,
                  s.prize, s.reasons
           FROM patrol_plan_stops s JOIN patrol_plan_versions v ON v.id = s.version_id
           WHERE v.plan_id = :p AND v.version = COALESCE(:v, (SELECT max(version) FROM patrol_plan_versions
                                                             WHERE plan_id = :p))
           ORDER BY s.chief_code, s.seq""",
        {"p": plan_id, "v": version},
    )
