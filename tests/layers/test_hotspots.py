"""Hotspots: Gi* equal to esda, FDR, a known hotspot, segments as units, kernel density."""

from __future__ import annotations

import warnings

import esda
import h3
import numpy as np
import pytest
from libpysal.weights import WSP
from sqlalchemy.engine import Connection

from layers.base import LayerParams, Scope
from layers.registry import get_layer, render
from layers.stats.gistar import confidence_class, fdr_bh, gi_star, star_weights
from layers.stats.hexgrid import contiguity, point_cells, study_area, with_rings

from .conftest import Seed, local

CENTRE = (28.89, 119.81)  # lat, lon


def _esda(y: np.ndarray, adjacency, transform: str) -> esda.G_Local:
    w = WSP(adjacency).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(y, w, transform=transform, star=True, permutations=0)


@pytest.mark.parametrize("transform", ["B", "R"])
def test_gi_star_equals_esda_on_h3_cells(transform: str) -> None:
    rng = np.random.default_rng(7)
    lat = CENTRE[0] + rng.normal(0, 0.02, 3000)
    lon = CENTRE[1] + rng.normal(0, 0.02, 3000)
    observed = point_cells(lat, lon, 9)
    cells = with_rings(observed, 1)
    y = np.zeros(len(cells))
    np.add.at(y, np.searchsorted(cells, observed), 1)
    adjacency = contiguity(cells)
    ours = gi_star(y, star_weights(adjacency, transform))
    theirs = _esda(y, adjacency, transform)
    np.testing.assert_allclose(ours.g, theirs.Gs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.expected, theirs.EGs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.variance, theirs.VGs, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(ours.z, theirs.Zs, rtol=0, atol=1e-9)
    # esda's p_norm is one-sided; ours is two-sided (ArcGIS convention for hot *and* cold).
    np.testing.assert_allclose(ours.p, 2 * theirs.p_norm, rtol=0, atol=1e-12)


def test_layer_statistics_equal_esda_on_its_own_cells(db: Connection, seed: Seed) -> None:
    rng = np.random.default_rng(3)
    for la, lo in zip(CENTRE[0] + rng.normal(0, 0.01, 150), CENTRE[1] + rng.normal(0, 0.01, 150), strict=True):
        seed.case(float(lo), float(la), local(2025, 5, 1, 10))
    data = get_layer("hotspots").data(db, LayerParams(options={"fdr": False}))
    theirs = _esda(data["count"].to_numpy(), contiguity(data["cell"].to_numpy()), "B")
    np.testing.assert_allclose(data["z"], theirs.Zs, atol=1e-9)
    assert data["count"].sum() == 150


def test_fdr_matches_benjamini_hochberg_by_hand() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.20])
    # sorted 0.01, 0.03, 0.04, 0.20; ×4/rank: 0.04, 0.06, 0.0533, 0.20; running min from the top
    np.testing.assert_allclose(fdr_bh(p), [0.04, 0.05333333, 0.05333333, 0.20], atol=1e-7)
    assert list(confidence_class(np.array([2.0, -3.0, 1.0, 1.0]), np.array([0.009, 0.04, 0.09, 0.2]))) == [3, -2, 1, 0]


def test_a_known_hotspot_is_found(db: Connection, seed: Seed) -> None:
    hot = h3.latlng_to_cell(*CENTRE, 9)
    # 20 cases in the hot cell and 8 in each neighbour; one case in each of 80 cells spread over the town.
    for cell, n in [(hot, 20)] + [(c, 8) for c in h3.grid_ring(hot, 1)]:
        la, lo = h3.cell_to_latlng(cell)
        for _ in range(n):
            seed.case(lo, la, local(2025, 5, 1, 10), squad_code="ZD01")
    far = [c for c in h3.grid_ring(hot, 12)][::1][:80]
    for cell in far:
        la, lo = h3.cell_to_latlng(cell)
        seed.case(lo, la, local(2025, 5, 1, 10), squad_code="ZD01")
    result = render("hotspots", db, LayerParams(start=local(2025, 5, 1).date(), end=local(2025, 5, 1).date()))
    row = result.data.set_index("h3").loc[hot]
    assert row["count"] == 20
    assert row["cls"] == 3 and row["q"] < 0.01
    assert result.summary["hot_spots_99"] >= 1
    assert set(result.data.loc[result.data["cls"] > 0, "h3"]) <= {hot, *h3.grid_ring(hot, 1), *h3.grid_ring(hot, 2)}
    assert result.traces[0].type == "choroplethmap"
    # The tooltip and the legend say it in plain Chinese (no z, no q), the wall and the squad page alike.
    trace = result.traces[0]
    texts = dict(zip(trace.locations, trace.text, strict=True))
    assert texts[hot] == "高度聚集（99 % 置信）"
    assert "z" not in trace.hovertemplate and "q" not in trace.hovertemplate and "%{text}" in trace.hovertemplate
    assert result.legend[0].label == "高度聚集（99 % 置信）"
    # Another squad's scope sees none of these cases.
    other = render("hotspots", db, LayerParams(scope=Scope(squads=("ZD02",))))
    assert other.summary["cases"] == 0


def test_hotspots_on_street_segments(db: Connection, seed: Seed) -> None:
    ids = []
    for i in range(12):  # a straight street cut into 12 segments of ~100 m
        x0 = 119.80 + i * 0.001
        ids.append(seed.segment(f"s{i}", [(x0, 28.89), (x0 + 0.001, 28.89)], squad_code="ZD01", length_m=97.5))
    for i, n in enumerate([0, 0, 0, 1, 0, 9, 12, 10, 0, 0, 1, 0]):
        for _ in range(n):
            seed.case(
                119.8005 + i * 0.001,
                28.8901,
                local(2025, 5, 1, 10),
                segment_id=ids[i] if i != 6 else None,
                near_segment_id=ids[i],
            )
    result = render("hotspots", db, LayerParams(options={"unit": "segment", "neighbour_m": 120, "fdr": False}))
    data = result.data.set_index("segment_key")
    assert data.loc["s6", "count"] == 12  # the segment the ETL stored, though the geocoder gave these none
    assert data.loc["s6", "cls"] > 0 and data.loc["s0", "cls"] <= 0
    assert data.loc["s6", "per_km"] == pytest.approx(12 / 0.0975)


def test_density_bins_cases(db: Connection, seed: Seed) -> None:
    for i in range(5):
        seed.case(119.81 + i * 1e-6, 28.89, local(2025, 5, 1, 10))
    seed.case(119.83, 28.89, local(2025, 5, 1, 10))
    result = render("density", db, LayerParams())
    assert result.data["count"].sum() == 6
    assert result.traces[0].type == "densitymap"


def test_study_area_equals_rings_and_contiguity() -> None:
    rng = np.random.default_rng(5)
    observed = point_cells(CENTRE[0] + rng.normal(0, 0.01, 500), CENTRE[1] + rng.normal(0, 0.01, 500), 9)
    cells, adjacency = study_area(observed)
    np.testing.assert_array_equal(cells, with_rings(observed, 1))
    assert (adjacency != contiguity(cells)).nnz == 0
    assert adjacency.nnz > 0 and (adjacency != adjacency.T).nnz == 0
