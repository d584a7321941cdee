"""Recent cases as planning evidence: a segment's prize grows with its recent cases, newer ones counting more.

Walking a segment costs time in proportion to its length, so the prize must carry the cases expected
on it for the solver to buy cases per metre walked (what the PAI measures), not only a score per metre.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy.engine import Connection

from plans.planner import make_plan
from plans.prizes import HOT_DAYS, RECENT_HALF_LIFE_DAYS, Weights, segment_prizes
from tests.layers.conftest import Seed, local

from .conftest import PLAN_DATE, X0, Y0, Grid
from .test_planner import _request

CASES_ONLY = Weights(hot=0, cases=1, under=0, returns=0, sanitation=0, warnings=0)
AS_OF = PLAN_DATE - dt.timedelta(days=1)
END = local(2026, 11, 30, 0, 0)  # the end of AS_OF


def _closed_cases(seed: Seed, segment_id: int, days_ago: float, n: int) -> None:
    received = END - dt.timedelta(days=days_ago)
    for _ in range(n):
        seed.case(X0, Y0, received, segment_id=segment_id, squad_code="ZT01", status="已结案", closed_at=received)


def _prizes(db: Connection) -> dict[int, float]:
    frame = segment_prizes(db, "ZT01", AS_OF, CASES_ONLY, END.tzinfo)
    return dict(zip(frame["segment_id"], frame["prize"], strict=True))


def test_prize_counts_recent_cases_weighted_by_age(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    _closed_cases(grid_seed, grid.ns[0], 0.5, 3)  # three this week
    _closed_cases(grid_seed, grid.ns[1], 0.5, 1)  # one this week
    _closed_cases(grid_seed, grid.ns[2], 0.5 + RECENT_HALF_LIFE_DAYS, 1)  # one, a half-life older
    _closed_cases(grid_seed, grid.ns[3], HOT_DAYS + 1, 5)  # outside the evidence window
    prizes = _prizes(db)
    one = 0.5 ** (0.5 / RECENT_HALF_LIFE_DAYS)
    assert prizes[grid.ns[0]] == pytest.approx(3 * one, rel=1e-3)
    assert prizes[grid.ns[1]] == pytest.approx(one, rel=1e-3)
    assert prizes[grid.ns[2]] == pytest.approx(one / 2, rel=1e-3)
    assert prizes[grid.ns[3]] == 0
    assert prizes[grid.ns[4]] == 0
    frame = segment_prizes(db, "ZT01", AS_OF, CASES_ONLY, END.tzinfo).set_index("segment_id")
    assert any(r.startswith("近期案件") for r in frame.loc[grid.ns[0], "reasons"])
    off = segment_prizes(db, "ZT01", AS_OF, dataclasses.replace(CASES_ONLY, cases=0), END.tzinfo)
    assert float(off["prize"].sum()) == 0


def test_plan_buys_cases_per_metre(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    # two streets from the station, both in the same (Gi*-free) class; 东西0街 has 4 cases, 南北0路 1:
    # with time for one street, the plan takes the denser one
    _closed_cases(grid_seed, grid.ew[0], 1, 4)
    _closed_cases(grid_seed, grid.ns[0], 1, 1)
    plan = make_plan(db, _request(minutes=16, chiefs=("TC01",), weights=CASES_ONLY))
    chosen = [s.segment_id for s in plan.routes[0].stops]
    assert chosen and chosen[0] == grid.ew[0]
    assert grid.ns[0] not in chosen
