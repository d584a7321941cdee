"""Sanitation: planned route segments against segments covered by vehicle GPS in the window."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Connection

from layers.base import LayerParams, Scope
from layers.registry import render

from .conftest import Seed, local

WINDOW = LayerParams(start=dt.date(2025, 6, 2), end=dt.date(2025, 6, 3))


def _routes(seed: Seed) -> dict[str, int]:
    a = seed.segment("A", [(119.80, 28.89), (119.81, 28.89)], squad_code="ZD01", length_m=1000.0)
    b = seed.segment("B", [(119.81, 28.89), (119.815, 28.89)], squad_code="ZD01", length_m=500.0)
    c = seed.segment("C", [(119.80, 28.90), (119.81, 28.90)], squad_code="ZD01", length_m=800.0)
    d = seed.segment("D", [(119.83, 28.90), (119.84, 28.90)], squad_code="ZD02", length_m=700.0)
    seed.route("R1", [a, b], [(119.80, 28.89), (119.815, 28.89)], vehicle="浙G00001", squad_code="ZD01")
    seed.route("R2", [d], [(119.83, 28.90), (119.84, 28.90)], vehicle="浙G00002", squad_code="ZD02")
    seed.visit(a, "sanitation", "浙G00009", local(2025, 6, 2, 5, 30), 6)  # another vehicle covered A
    seed.visit(c, "sanitation", "浙G00001", local(2025, 6, 2, 6, 0), 5)  # off the plan
    seed.visit(b, "sanitation", "浙G00001", local(2025, 6, 1, 6, 0), 5)  # the day before the window
    seed.visit(b, "patrol", "C1", local(2025, 6, 2, 9, 0), 5)  # a patrol is not sweeping
    seed.visit(d, "sanitation", "浙G00002", local(2025, 6, 3, 6, 0), 9)
    return {"A": a, "B": b, "C": c, "D": d}


def test_planned_against_actual_per_route_and_squad(db: Connection, seed: Seed) -> None:
    ids = _routes(seed)
    result = render("sanitation", db, WINDOW)
    status = result.data.set_index("segment_id")["status"]
    assert status[ids["A"]] == "covered"
    assert status[ids["B"]] == "missed"
    assert status[ids["C"]] == "unplanned"
    assert status[ids["D"]] == "covered"
    routes = result.data.attrs["by_route"].set_index("route_code")
    assert routes.loc["R1", "planned_km"] == pytest.approx(1.5)
    assert routes.loc["R1", "covered_km"] == pytest.approx(1.0)
    assert routes.loc["R1", "covered_own_km"] == 0  # A was swept by another vehicle
    assert routes.loc["R1", "share"] == pytest.approx(2 / 3)
    assert routes.loc["R1", "daily_share"] == pytest.approx((1000 / 1500 + 0) / 2)
    assert routes.loc["R2", "share"] == 1.0 and routes.loc["R2", "covered_own_km"] == pytest.approx(0.7)
    squads = result.data.attrs["by_squad"].set_index("squad_code")
    assert squads.loc["ZD01", "share"] == pytest.approx(2 / 3)
    assert result.summary["planned_km"] == pytest.approx(2.2)
    assert result.summary["covered_km"] == pytest.approx(1.7)


def test_scope_restricts_to_the_squads_routes(db: Connection, seed: Seed) -> None:
    ids = _routes(seed)
    result = render("sanitation", db, LayerParams(start=WINDOW.start, end=WINDOW.end, scope=Scope(squads=("ZD02",))))
    assert list(result.data["segment_id"]) == [ids["D"]]
    assert list(result.data.attrs["by_route"]["route_code"]) == ["R2"]
