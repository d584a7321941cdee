"""Patrol coverage (街路长) and "hot but under-patrolled" segments on hand-checked visits."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Connection

from layers.base import LayerParams, Scope
from layers.registry import render

from .conftest import Seed, local

WINDOW = LayerParams(start=dt.date(2025, 5, 5), end=dt.date(2025, 5, 7))


def _streets(seed: Seed) -> dict[str, int]:
    a = seed.segment("A", [(119.80, 28.89), (119.81, 28.89)], name="解放街", squad_code="ZD01", length_m=1000.0)
    b = seed.segment("B", [(119.81, 28.89), (119.84, 28.89)], name="壶山路", squad_code="ZD01", length_m=3000.0)
    c = seed.segment("C", [(119.80, 28.90), (119.805, 28.90)], name="溪南巷", squad_code="ZD02", length_m=500.0)
    seed.chief("C1", "王街长", "ZD01", [a, b])
    seed.chief("C2", "赵路长", "ZD02", [c])
    seed.visit(a, "patrol", "C1", local(2025, 5, 5, 8, 0), 10)
    seed.visit(a, "patrol", "C1", local(2025, 5, 5, 16, 0), 20)
    seed.visit(a, "patrol", "C1", local(2025, 5, 6, 9, 0), 15)
    seed.visit(b, "patrol", "C1", local(2025, 5, 7, 20, 0), 30)
    seed.visit(b, "sanitation", "浙G12345", local(2025, 5, 5, 6, 0), 40)  # not a patrol
    seed.visit(c, "patrol", "C2", local(2025, 5, 1, 10, 0), 12)  # before the window
    return {"A": a, "B": b, "C": c}


def test_segment_dwell_visits_and_last_visit(db: Connection, seed: Seed) -> None:
    _streets(seed)
    result = render("patrol_coverage", db, WINDOW)
    data = result.data.set_index("segment_key")
    assert data.loc["A", "visits"] == 3 and data.loc["A", "dwell_min"] == pytest.approx(45.0)
    assert data.loc["B", "visits"] == 1 and data.loc["B", "dwell_min"] == pytest.approx(30.0)
    assert data.loc["C", "visits"] == 0 and data.loc["C", "dwell_min"] == 0
    # Last visit of C left at 05-01 10:12; the window ends 05-08 00:00.
    assert data.loc["C", "days_since"] == pytest.approx(6 + (24 * 60 - 612) / 1440)
    assert data.loc["A", "days_covered"] == 2
    assert result.summary["coverage_share"] == pytest.approx(4000 / 4500, abs=1e-4)


def test_length_weighted_daily_share_per_chief_and_squad(db: Connection, seed: Seed) -> None:
    _streets(seed)
    data = render("patrol_coverage", db, WINDOW).data
    by_chief = data.attrs["by_chief"].set_index("group")
    # C1: day 1 A (1000/4000), day 2 A (0.25), day 3 B (0.75) → mean 1.25 / 3
    assert by_chief.loc["C1", "share"] == pytest.approx(1.25 / 3)
    assert by_chief.loc["C2", "share"] == 0.0
    assert by_chief.loc["C1", "name"] == "王街长"
    by_squad = data.attrs["by_squad"].set_index("group")
    assert by_squad.loc["ZD01", "share"] == pytest.approx(1.25 / 3)
    daily = data.attrs["daily_chief"]
    assert list(daily[daily["group"] == "C1"]["share"]) == pytest.approx([0.25, 0.25, 0.75])


def test_share_per_shift(db: Connection, seed: Seed) -> None:
    _streets(seed)
    params = LayerParams(start=WINDOW.start, end=WINDOW.end, options={"period": "shift"})
    data = render("patrol_coverage", db, params).data
    # Shifts 07–15 and 15–23: (.25, .25), (.25, 0), (0, .75) → 1.5 / 6
    assert data.attrs["by_chief"].set_index("group").loc["C1", "share"] == pytest.approx(0.25)


def test_scope_limits_the_segments(db: Connection, seed: Seed) -> None:
    _streets(seed)
    mine = render("patrol_coverage", db, LayerParams(start=WINDOW.start, end=WINDOW.end, scope=Scope(squads=("ZD02",))))
    assert list(mine.data["segment_key"]) == ["C"]
    assert list(mine.data.attrs["by_chief"]["group"]) == ["C2"]
    chief = render("patrol_coverage", db, LayerParams(start=WINDOW.start, end=WINDOW.end, scope=Scope(chief_code="C1")))
    assert sorted(chief.data["segment_key"]) == ["A", "B"]


def test_hot_but_under_patrolled_ranking(db: Connection, seed: Seed) -> None:
    x = seed.segment("X", [(119.80, 28.89), (119.81, 28.89)], squad_code="ZD01", length_m=1000.0)
    y = seed.segment("Y", [(119.80, 28.91), (119.81, 28.91)], squad_code="ZD01", length_m=1000.0)
    z = seed.segment("Z", [(119.80, 28.93), (119.81, 28.93)], squad_code="ZD01", length_m=1000.0)
    seed.segment("Q", [(119.80, 28.95), (119.81, 28.95)], squad_code="ZD01", length_m=1000.0)
    for sid, n in ((x, 10), (y, 10), (z, 1)):
        for _ in range(n):
            seed.case(119.805, 28.89, local(2025, 5, 6, 10), segment_id=sid, squad_code="ZD01")
    seed.visit(y, "patrol", "C1", local(2025, 5, 6, 9), 120)
    result = render("underpatrolled", db, WINDOW)
    data = result.data.set_index("segment_key")
    assert data.loc["X", "rank"] == 1
    # cases/km percentiles X .833, Y .833, Z .333; dwell/km X .5, Y 1, Z .5
    assert data.loc["X", "score"] == pytest.approx(2.5 / 3 - 0.5)
    assert data.loc["Y", "score"] == pytest.approx(2.5 / 3 - 1.0)
    assert data.loc["Z", "score"] == pytest.approx(1 / 3 - 0.5)
    assert data.loc["Q", "rank"] != data.loc["Q", "rank"]  # no cases: not ranked (NaN)
    assert result.summary["ranked_segments"][0]["segment_id"] == x


def test_wall_scope_masks_chief_names(db: Connection, seed: Seed) -> None:
    _streets(seed)
    params = LayerParams(start=WINDOW.start, end=WINDOW.end, scope=Scope(aggregates_only=True))
    names = set(render("patrol_coverage", db, params).data.attrs["by_chief"]["name"])
    assert names == {"王**", "赵**"}
