"""Active warnings as planning evidence: open warnings on a segment raise its prize, severity-weighted."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import text
from sqlalchemy.engine import Connection

from layers.queries.warnings import SEVERITY_WEIGHTS, segment_warning_scores
from plans.planner import PlanRequest, make_plan
from plans.prizes import Weights
from tests.layers.conftest import Seed, local

from .conftest import PLAN_DATE, STEP, X0, Y0, Grid, open_case

AS_OF_END = local(2026, 11, 30, 0, 0)
RAISED = local(2026, 11, 29, 10, 0)  # during the evidence day  # the evidence of a plan for PLAN_DATE ends here


def _warning(
    db: Connection,
    rule: str,
    severity: str,
    *,
    segment_id: int | None = None,
    subject: tuple[str, str] | None = None,
    raised: dt.datetime = RAISED,
    resolved: dt.datetime | None = None,
) -> None:
    kind, sid = subject or ("segment", str(segment_id))
    db.execute(
        text(
            """INSERT INTO warnings (rule, severity, subject_kind, subject_id, squad_code, segment_id, title,
                                     raised_at, last_seen_at, status, resolved_at)
               VALUES (:rule, :severity, :kind, :sid, 'ZT01', :seg, '测试预警', :raised, :raised,
                       CASE WHEN CAST(:resolved AS timestamptz) IS NULL THEN 'new' ELSE 'resolved' END, :resolved)"""
        ),
        {
            "rule": rule,
            "severity": severity,
            "kind": kind,
            "sid": sid,
            "seg": segment_id,
            "raised": raised,
            "resolved": resolved,
        },
    )


def test_scores_weigh_severity_cap_at_one_and_count_only_warnings_open_at_the_instant(
    db: Connection, grid: Grid
) -> None:
    ns, ew = grid.ns, grid.ew
    _warning(db, "hot_unpatrolled", "warning", segment_id=ns[0])  # subject is the segment
    _warning(db, "case_due", "critical", segment_id=ns[1], subject=("case", "C1"))  # a case on the segment
    _warning(db, "case_due", "critical", segment_id=ns[2], subject=("case", "C2"))
    _warning(db, "case_arrival", "critical", segment_id=ns[2], subject=("case", "C3"))  # 2 × critical: capped
    _warning(db, "hot_unpatrolled", "warning", segment_id=ew[0], resolved=local(2026, 11, 29, 12, 0))  # resolved
    _warning(db, "hot_unpatrolled", "warning", segment_id=ew[1], raised=local(2026, 11, 30, 8, 0))  # raised later
    _warning(db, "hot_unpatrolled", "warning", segment_id=ew[2], resolved=local(2026, 11, 30, 9, 0))  # open then
    _warning(db, "officer_stationary", "critical", subject=("officer", "TC01"))  # on no segment
    ids = ns[:3] + ew[:3] + [grid.spur]
    scores = segment_warning_scores(db, ids, AS_OF_END)
    assert scores.to_dict() == {
        ns[0]: SEVERITY_WEIGHTS["warning"],
        ns[1]: SEVERITY_WEIGHTS["critical"],
        ns[2]: 1.0,
        ew[0]: 0.0,
        ew[1]: 0.0,
        ew[2]: SEVERITY_WEIGHTS["warning"],
        grid.spur: 0.0,
    }


def test_a_segment_with_an_open_warning_is_planned_when_warnings_weigh_and_not_otherwise(
    db: Connection, grid: Grid, grid_seed: Seed
) -> None:
    # NS0 and EW0 both start at the station and there is time for one street: NS0 has one open case,
    # EW0 an open hot_unpatrolled warning.
    open_case(grid_seed, grid.ns[0], X0, Y0 + STEP * 2, n=1)
    _warning(db, "hot_unpatrolled", "warning", segment_id=grid.ew[0])
    with_warnings = Weights(hot=0, cases=0, under=0, returns=1, sanitation=0, warnings=1)
    request = PlanRequest(
        squad="ZT01",
        date=PLAN_DATE,
        minutes=25,
        mode="foot",
        weights=with_warnings,
        chiefs=("TC01",),
        time_limit_s=1.0,
    )
    plan = make_plan(db, request)
    chosen = [s.segment_id for s in plan.routes[0].stops]
    assert chosen[0] == grid.ew[0]
    assert grid.ns[0] not in chosen
    stop = plan.routes[0].stops[0]
    assert "预警" in stop.reasons
    plan = make_plan(db, dataclasses.replace(request, weights=dataclasses.replace(with_warnings, warnings=0)))
    chosen = [s.segment_id for s in plan.routes[0].stops]
    assert chosen[0] == grid.ns[0]
    assert grid.ew[0] not in chosen


def test_a_warning_resolved_before_the_plan_adds_nothing(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    open_case(grid_seed, grid.ns[0], X0, Y0 + STEP * 2, n=1)
    _warning(db, "hot_unpatrolled", "critical", segment_id=grid.ew[0], resolved=local(2026, 11, 29, 12, 0))
    request = PlanRequest(
        squad="ZT01",
        date=PLAN_DATE,
        minutes=25,
        mode="foot",
        chiefs=("TC01",),
        time_limit_s=1.0,
        weights=Weights(hot=0, cases=0, under=0, returns=1, sanitation=0, warnings=1),
    )
    assert make_plan(db, request).routes[0].stops[0].segment_id == grid.ns[0]
