"""Plans kept in the database: each make or adjustment is a new version (author, time), one version is approved.

Library functions take the caller's connection and write inside its transaction.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import shapely
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

from geo.models import PatrolPlan, PatrolPlanRoute, PatrolPlanStop, PatrolPlanVersion
from geo.region import get_region
from layers._frames import read_frame
from plans.errors import PlanError
from plans.planner import Plan, PlanCache, PlanRequest, make_plan


def unknown_version(plan_id: int, version: int) -> PlanError:
    """The error for a plan version that does not exist."""
    return PlanError("unknown_plan", f"没有计划 {plan_id} 的第 {version} 版 (no such plan version)")


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


def make_and_save(
    conn: Connection, request: PlanRequest, author: str, plan_id: int | None = None, cache: PlanCache | None = None
) -> tuple[Plan, int, int]:
    """Make a plan (re-using ``cache`` after an adjustment) and store it as the next version of ``plan_id``.

    Returns
    -------
    plan, plan id, version

    Raises
    ------
    PlanError
        When no plan is possible (nothing is stored then).
    """
    plan = make_plan(conn, request, cache)
    plan_id, version = save_plan(conn, plan, author, plan_id)
    return plan, plan_id, version


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
        raise unknown_version(plan_id, version)
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


def approved_plans(conn: Connection, day: dt.date, squad: str | None = None) -> pd.DataFrame:
    """The approved version of each plan on ``day`` (of ``squad``, or every squad), newest approval last."""
    return read_frame(
        conn,
        """SELECT p.id AS plan_id, p.squad_code, p.shift, v.version, v.id AS version_id, v.approved_by,
                  v.approved_at
           FROM patrol_plans p JOIN patrol_plan_versions v ON v.plan_id = p.id
           WHERE p.plan_date = :d AND p.status = 'approved' AND v.approved_at IS NOT NULL
             AND (CAST(:s AS text) IS NULL OR p.squad_code = :s)
             AND v.approved_at = (SELECT max(w.approved_at) FROM patrol_plan_versions w WHERE w.plan_id = p.id)
           ORDER BY v.approved_at""",
        {"d": day, "s": squad},
    )


def chief_task(conn: Connection, chief_code: str, day: dt.date) -> tuple[int, int] | None:
    """(plan id, version) of the approved plan that gives ``chief_code`` stops on ``day`` (latest approval), or None."""
    row = conn.execute(
        text(
            """SELECT v.plan_id, v.version FROM patrol_plan_versions v
               JOIN patrol_plans p ON p.id = v.plan_id
               WHERE p.plan_date = :d AND p.status = 'approved' AND v.approved_at IS NOT NULL
                 AND v.approved_at = (SELECT max(w.approved_at) FROM patrol_plan_versions w WHERE w.plan_id = p.id)
                 AND EXISTS (SELECT 1 FROM patrol_plan_stops s WHERE s.version_id = v.id AND s.chief_code = :c)
               ORDER BY v.approved_at DESC LIMIT 1"""
        ),
        {"d": day, "c": chief_code},
    ).first()
    return (int(row[0]), int(row[1])) if row else None


def load_plan(conn: Connection, plan_id: int, version: int) -> Plan:
    """A stored version as a :class:`~plans.planner.Plan` (for the chief's page, GPX and the sheet).

    Stops whose segment was deleted since keep their stored key and name; their point is the
    route's start. ``summary`` is the one stored with the version.

    Raises
    ------
    PlanError
        When the version does not exist.
    """
    from plans.planner import ChiefRoute, Stop
    from plans.prizes import Weights, is_hot_reason

    head = conn.execute(
        text("SELECT id, params, summary FROM patrol_plan_versions WHERE plan_id = :p AND version = :v"),
        {"p": plan_id, "v": version},
    ).first()
    if head is None:
        raise unknown_version(plan_id, version)
    version_id, params, summary = head
    request = PlanRequest(
        squad=params["squad"],
        date=dt.date.fromisoformat(params["date"]),
        shift=params["shift"],
        chiefs=tuple(params.get("chiefs") or ()),
        minutes=int(params["minutes"]),
        mode=params["mode"],
        weights=Weights(**params.get("weights", {})),
    )
    routes = read_frame(
        conn,
        """SELECT r.chief_code, COALESCE(c.name, r.chief_code) AS chief_name, r.length_m, r.duration_s, r.start_at,
                  ST_AsBinary(ST_LineMerge(r.geom)) AS geom
           FROM patrol_plan_routes r LEFT JOIN street_chiefs c ON c.code = r.chief_code
           WHERE r.version_id = :v ORDER BY r.chief_code""",
        {"v": version_id},
    )
    stop_rows = read_frame(
        conn,
        """SELECT s.chief_code, s.seq, s.segment_id, s.segment_key, s.segment_name, s.reversed, s.arrive_at,
                  s.leave_at, s.prize, s.reasons, g.length_m,
                  ST_X(CASE WHEN s.reversed THEN ST_EndPoint(g.geom) ELSE ST_StartPoint(g.geom) END) AS lon,
                  ST_Y(CASE WHEN s.reversed THEN ST_EndPoint(g.geom) ELSE ST_StartPoint(g.geom) END) AS lat
           FROM patrol_plan_stops s
           LEFT JOIN LATERAL (SELECT ST_LineMerge(geom) AS geom, length_m FROM street_segments
                              WHERE id = s.segment_id) g ON true
           WHERE s.version_id = :v ORDER BY s.chief_code, s.seq""",
        {"v": version_id},
    )
    tz = get_region().tz  # times are read back in UTC: show them in local time, as the planner made them
    routes["start_at"] = routes["start_at"].dt.tz_convert(tz)
    for column in ("arrive_at", "leave_at"):
        stop_rows[column] = stop_rows[column].dt.tz_convert(tz)
    out = []
    for route in routes.itertuples():
        geometry = shapely.from_wkb(bytes(route.geom)) if route.geom is not None else None
        if geometry is not None and geometry.geom_type != "LineString":
            geometry = None  # a path in pieces cannot be one GPX track
        first = geometry.coords[0] if geometry is not None else (float("nan"), float("nan"))
        mine = stop_rows[stop_rows["chief_code"] == route.chief_code]
        stops_out = [
            Stop(
                seq=int(s.seq),
                segment_id=int(s.segment_id) if pd.notna(s.segment_id) else -1,
                segment_key=s.segment_key,
                name=s.segment_name,
                reversed=bool(s.reversed),
                arrive_at=s.arrive_at,
                leave_at=s.leave_at,
                length_m=float(s.length_m) if pd.notna(s.length_m) else 0.0,
                prize=float(s.prize),
                hot=is_hot_reason(list(s.reasons or [])),
                reasons=list(s.reasons or []),
                lon=float(s.lon) if pd.notna(s.lon) else first[0],
                lat=float(s.lat) if pd.notna(s.lat) else first[1],
            )
            for s in mine.itertuples()
        ]
        out.append(
            ChiefRoute(
                route.chief_code,
                route.chief_name,
                route.start_at,
                stops_out,
                geometry,
                float(route.length_m),
                float(route.duration_s),
                request.minutes * 60.0,
            )
        )
    return Plan(request, out, dict(summary or {}), list((summary or {}).get("messages", [])))
