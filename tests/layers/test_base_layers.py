"""Base layers: boundaries, stations, streets and cases (points, or cells when many)."""

from __future__ import annotations

import plotly.graph_objects as go
from sqlalchemy.engine import Connection

from layers.base import LayerParams, Scope
from layers.registry import render

from .conftest import Seed, local


def _two_squads(seed: Seed) -> None:
    seed.squad("ZD01", "白洋中队", station=(119.805, 28.885), officers=12, phone="0579-1")
    seed.squad("ZD02", "壶山中队", station=(119.825, 28.885), officers=9)
    seed.jurisdiction("ZD01", (119.80, 28.88, 119.82, 28.90), version=1, is_current=False)
    seed.jurisdiction("ZD01", (119.80, 28.88, 119.815, 28.90), version=2)
    seed.jurisdiction("ZD02", (119.815, 28.88, 119.84, 28.90), version=2)


def test_townships_mark_approximate_boundaries(db: Connection, seed: Seed) -> None:
    seed.area("330723001", "白洋街道", "township", (119.80, 28.88, 119.82, 28.90), approximate=False)
    seed.area("330723002", "柳城畲族镇", "township", (119.82, 28.88, 119.84, 28.90), approximate=True)
    result = render("townships", db, LayerParams())
    assert "乡镇边界为近似" in result.notes
    assert result.summary["approximate_boundaries"] == 1
    labels = next(t for t in result.traces if t.mode == "text").text
    assert "柳城畲族镇（近似）" in labels and "白洋街道" in labels
    assert all(isinstance(t, go.Scattermap) for t in result.traces)


def test_townships_without_approximate_ones_have_no_note(db: Connection, seed: Seed) -> None:
    seed.area("330723001", "白洋街道", "township", (119.80, 28.88, 119.82, 28.90))
    assert render("townships", db, LayerParams()).notes == []


def test_jurisdictions_show_the_current_version_within_scope(db: Connection, seed: Seed) -> None:
    _two_squads(seed)
    result = render("jurisdictions", db, LayerParams())
    assert sorted(result.data["squad_code"]) == ["ZD01", "ZD02"]
    assert set(result.data["version"]) == {2}
    choropleth = result.traces[0]
    assert isinstance(choropleth, go.Choroplethmap)
    assert len(choropleth.geojson["features"]) == 2
    scoped = render("jurisdictions", db, LayerParams(scope=Scope(squads=("ZD02",))))
    assert list(scoped.data["squad_code"]) == ["ZD02"]


def test_stations_and_streets(db: Connection, seed: Seed) -> None:
    _two_squads(seed)
    seed.segment("s1", [(119.80, 28.89), (119.81, 28.89)], road_class="主干路", squad_code="ZD01", length_m=975.0)
    seed.segment("s2", [(119.82, 28.89), (119.83, 28.89)], road_class="巷", squad_code="ZD02", length_m=975.0)
    stations = render("stations", db, LayerParams(squads=("ZD01",)))
    assert list(stations.data["squad_name"]) == ["白洋中队"]
    assert stations.summary["officers"] == 12
    streets = render("streets", db, LayerParams())
    assert streets.summary == {"segments": 2, "length_km": 1.9}
    assert {t.name for t in streets.traces} == {"主干路", "巷"}
    only_mine = render("streets", db, LayerParams(scope=Scope(squads=("ZD02",))))
    assert list(only_mine.data["segment_key"]) == ["s2"]


def test_cases_are_points_when_few_and_cells_when_many(db: Connection, seed: Seed) -> None:
    _two_squads(seed)
    for i in range(6):
        seed.case(119.805 + i * 1e-4, 28.885, local(2025, 3, 1, 9), squad_code="ZD01", procedure_type="简易程序")
    seed.case(119.83, 28.885, local(2025, 3, 1, 9), squad_code="ZD02", procedure_type="一般程序")
    params = LayerParams(start=local(2025, 3, 1).date(), end=local(2025, 3, 1).date())
    points = render("cases", db, params)
    assert points.summary["cases"] == 7
    assert {t.name for t in points.traces} == {"简易程序", "一般程序"}
    cells = render("cases", db, LayerParams(start=params.start, end=params.end, options={"max_points": 5}))
    assert set(cells.data["kind"]) == {"cell"}
    assert cells.data["count"].sum() == 7
    assert "case_number" not in cells.data
    # Aggregates-only scope never gets case-level points, however few.
    wall = render("cases", db, LayerParams(scope=Scope(aggregates_only=True)))
    assert set(wall.data["kind"]) == {"cell"} and "case_number" not in wall.data
    # Another squad's cases are not returned.
    mine = render("cases", db, LayerParams(scope=Scope(squads=("ZD02",))))
    assert mine.summary["cases"] == 1


def test_cases_outside_the_window_are_left_out(db: Connection, seed: Seed) -> None:
    seed.case(119.805, 28.885, local(2025, 3, 1, 23, 59))
    seed.case(119.805, 28.885, local(2025, 3, 2, 0, 0))
    day = local(2025, 3, 1).date()
    assert render("cases", db, LayerParams(start=day, end=day)).summary["cases"] == 1
