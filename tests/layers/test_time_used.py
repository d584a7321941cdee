"""Closed cases by the share of their time limit used (the squad page's chart), read as an aggregate."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Connection

from layers.base import LayerParams, Scope
from layers.queries.time_used import time_used

from .conftest import Seed, local

RECEIVED = local(2025, 3, 1, 9)


def _case(seed: Seed, procedure: str | None, used_days: float | None, allowed_days: float | None, **kw) -> int:
    closed = RECEIVED + dt.timedelta(days=used_days) if used_days is not None else None
    due = RECEIVED + dt.timedelta(days=allowed_days) if allowed_days is not None else None
    return seed.case(119.805, 28.89, RECEIVED, procedure_type=procedure, closed_at=closed, due_at=due, **kw)


def test_time_used_counts_closed_cases_per_bin_and_type(db: Connection, seed: Seed) -> None:
    _case(seed, "一般程序", 2, 10, squad_code="ZD01")  # 20 %: ≤25%
    _case(seed, "一般程序", 9.9, 10, squad_code="ZD01")  # 99 %: 75–100%
    _case(seed, "一般程序", 12, 10, squad_code="ZD01")  # 120 %: 100–150%
    _case(seed, None, 30, 10, squad_code="ZD01")  # 300 %: >200%, type unknown
    _case(seed, "简易程序", 0.5, 1, squad_code="ZD02")  # 50 %: 50–75% (the bin's lower edge)
    _case(seed, "一般程序", None, 10, squad_code="ZD01")  # open: not counted
    _case(seed, "一般程序", 2, None, squad_code="ZD01")  # no due time: not counted
    window = {"start": RECEIVED.date(), "end": RECEIVED.date()}
    used = time_used(db, LayerParams(**window))
    assert used.labels[used.limit_bin] == "100–150%"
    assert used.counts == {
        "一般程序": [1, 0, 0, 1, 1, 0, 0],
        "其他": [0, 0, 0, 0, 0, 0, 1],
        "简易程序": [0, 0, 1, 0, 0, 0, 0],
    }
    assert used.late_share == 2 / 5
    # an aggregate: the wall's scope may read it; a squad's scope sees its own cases only
    assert time_used(db, LayerParams(scope=Scope(aggregates_only=True), **window)).counts == used.counts
    assert time_used(db, LayerParams(scope=Scope(squads=("ZD02",)), **window)).counts == {
        "简易程序": [0, 0, 1, 0, 0, 0, 0]
    }
    empty = time_used(db, LayerParams(start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2)))
    assert empty.counts == {} and empty.late_share is None
