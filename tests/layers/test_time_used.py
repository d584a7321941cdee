"""Closed and open cases by the share of their time limit used (the squad page's chart), read as an aggregate."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Connection

from layers.base import LayerParams, Scope
from layers.queries.time_used import time_used
from layers.stats.response_time import time_used_bins, time_used_histogram

from .conftest import Seed, local

RECEIVED = local(2025, 3, 1, 9)


def _case(seed: Seed, procedure: str | None, used_days: float | None, allowed_days: float | None, **kw) -> int:
    closed = RECEIVED + dt.timedelta(days=used_days) if used_days is not None else None
    due = RECEIVED + dt.timedelta(days=allowed_days) if allowed_days is not None else None
    return seed.case(119.805, 28.89, RECEIVED, procedure_type=procedure, closed_at=closed, due_at=due, **kw)


def test_time_used_counts_closed_and_open_cases_per_bin_and_type(db: Connection, seed: Seed) -> None:
    _case(seed, "一般程序", 2, 10, squad_code="ZD01")  # 20 %
    _case(seed, "一般程序", 9.9, 10, squad_code="ZD01")  # 99 %
    _case(seed, "一般程序", 12, 10, squad_code="ZD01")  # 120 %: past the limit
    _case(seed, None, 30, 10, squad_code="ZD01")  # 300 %: >200%, type unknown
    _case(seed, "简易程序", 0.5, 1, squad_code="ZD02")  # 50 % (a bin's lower edge)
    _case(seed, "一般程序", None, 10, squad_code="ZD01")  # open: 15 h of 10 days so far (window ends 03-02 00:00)
    _case(seed, "一般程序", 2, None, squad_code="ZD01")  # no due time: not counted
    window = {"start": RECEIVED.date(), "end": RECEIVED.date()}
    used = time_used(db, LayerParams(**window), now=local(2025, 6, 1))
    # within the limit 95 % of the cases used under ~92 %: bins of 10 %, then the fixed bins past the limit
    assert used.labels == (*(f"{a}–{a + 10}%" for a in range(0, 100, 10)), "100–150%", "150–200%", ">200%")
    assert used.labels[used.limit_bin] == "100–150%"

    def bins(*labels: str) -> list[int]:
        return [labels.count(label) for label in used.labels]

    assert used.counts == {
        "一般程序": bins("20–30%", "90–100%", "100–150%"),
        "其他": bins(">200%"),
        "简易程序": bins("50–60%"),
    }
    assert used.open_counts == bins("0–10%")  # before, open cases were left out
    assert used.late_share == 2 / 5  # of the closed cases
    # the open case's time so far stops at now when now is inside the window
    early = time_used(db, LayerParams(**window), now=RECEIVED + dt.timedelta(hours=1))
    assert early.open_counts[0] == 1 and early.counts == used.counts
    # an aggregate: the wall's scope may read it; a squad's scope sees its own cases only
    wall = time_used(db, LayerParams(scope=Scope(aggregates_only=True), **window), now=local(2025, 6, 1))
    assert wall.counts == used.counts
    zd02 = time_used(db, LayerParams(scope=Scope(squads=("ZD02",)), **window))
    assert zd02.counts == {"简易程序": [int(label == "50–60%") for label in zd02.labels]} and zd02.open_counts == []
    empty = time_used(db, LayerParams(start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2)))
    assert empty.counts == {} and empty.open_counts == [] and empty.late_share is None


def test_bins_are_fine_where_the_cases_are() -> None:
    """Before, bins were fixed at 25 % and ~99 % of the demo's cases fell in the first bar."""
    percent = pd.Series([0.3, 0.8, 1.5, 2.2, 3.9, 4.4, 6.5, 0.1, 1.1, 2.9] * 10 + [40.0, 130.0, 250.0])
    edges, labels, limit_bin = time_used_bins(percent)
    assert labels[:8] == ("0–1%", "1–2%", "2–3%", "3–4%", "4–5%", "5–6%", "6–7%", "7–100%")
    assert labels[limit_bin:] == ("100–150%", "150–200%", ">200%")
    counts = time_used_histogram(percent, edges)
    assert max(counts) < 0.5 * len(percent)  # no single bar holds nearly everything
    assert sum(counts) == len(percent)
    wide = time_used_bins(pd.Series([10.0, 30.0, 60.0, 95.0]))[1]
    assert wide[:4] == ("0–10%", "10–20%", "20–30%", "30–40%") and wide[9] == "90–100%"
    assert time_used_bins(pd.Series([], dtype=float))[1][:4] == ("0–25%", "25–50%", "50–75%", "75–100%")
