"""Every registered layer: the contract (MapLibre traces only, summary keys are identifiers); empty and small data."""

from __future__ import annotations

import datetime as dt
import re

import plotly.graph_objects as go
import pytest
from sqlalchemy.engine import Connection

from layers.base import SUMMARY_LABELS, LayerParams, LayerResult, Scope
from layers.registry import layer_names, render

from .conftest import Seed, local

MAPLIBRE = (go.Scattermap, go.Choroplethmap, go.Densitymap)
EXPECTED = {
    "county",
    "townships",
    "jurisdictions",
    "stations",
    "streets",
    "cases",
    "hotspots",
    "density",
    "emerging",
    "case_rates",
    "patrol_coverage",
    "underpatrolled",
    "response_times",
    "sanitation",
}
PARAMS = LayerParams(start=dt.date(2025, 5, 1), end=dt.date(2025, 5, 31))


def test_the_contract_names_are_registered() -> None:
    assert set(layer_names()) == EXPECTED


def assert_summary_keys(result: LayerResult) -> None:
    """Summary keys are identifiers (English snake_case), each with its Chinese label in one place."""
    for key in result.summary:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", key), f"summary key {key!r} is not an identifier"
        assert key in SUMMARY_LABELS, f"summary key {key!r} has no label in layers.base.SUMMARY_LABELS"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_layer_renders_on_an_empty_database(db: Connection, name: str) -> None:
    result = render(name, db, PARAMS)
    assert isinstance(result, LayerResult)
    assert_summary_keys(result)
    assert all(isinstance(t, MAPLIBRE) for t in result.traces)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_layer_renders_small_data_with_maplibre_traces_only(db: Connection, seed: Seed, name: str) -> None:
    seed.area("330723", "武义县", "county", (119.79, 28.87, 119.85, 28.92))
    seed.area("330723001", "白洋街道", "township", (119.79, 28.87, 119.82, 28.92), approximate=True)
    seed.squad("ZD01", "白洋中队", station=(119.80, 28.88))
    seed.jurisdiction("ZD01", (119.79, 28.87, 119.85, 28.92))
    sid = seed.segment("s1", [(119.80, 28.89), (119.81, 28.89)], squad_code="ZD01", length_m=975.0)
    seed.chief("C1", "王街长", "ZD01", [sid])
    seed.route("R1", [sid], [(119.80, 28.89), (119.81, 28.89)], vehicle="浙G1", squad_code="ZD01")
    seed.visit(sid, "patrol", "C1", local(2025, 5, 20, 9), 10)
    seed.visit(sid, "sanitation", "浙G1", local(2025, 5, 20, 5), 3)
    for i in range(30):
        t = local(2025, 5, 1 + i % 28, 9)
        seed.case(
            119.801 + i * 2e-4,
            28.8901,
            t,
            squad_code="ZD01",
            segment_id=sid,
            procedure_type="简易程序",
            category="占道经营",
            dispatched_at=t + dt.timedelta(minutes=20),
            closed_at=t + dt.timedelta(hours=3),
        )
    result = render(name, db, PARAMS)
    if name not in {"emerging", "hotspots"}:  # these draw only significant cells; 30 cases may have none
        assert result.traces, name
    assert all(isinstance(t, MAPLIBRE) for t in result.traces)
    assert result.data is not None
    assert_summary_keys(result)
    other = render(name, db, LayerParams(start=PARAMS.start, end=PARAMS.end, scope=Scope(squads=("ZD09",))))
    assert all(isinstance(t, MAPLIBRE) for t in other.traces)
