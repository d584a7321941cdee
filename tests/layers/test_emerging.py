"""Emerging hotspots: space-time Gi*, Mann–Kendall, ArcGIS categories, and the layer on hand-made weeks."""

from __future__ import annotations

import datetime as dt

import h3
import numpy as np
import scipy.sparse as sp
from sqlalchemy.engine import Connection

from layers.base import LayerParams
from layers.emerging import space_time_gi_star
from layers.registry import render
from layers.stats.gistar import gi_star
from layers.stats.hexgrid import contiguity, with_rings
from layers.stats.trend import classify_emerging, mann_kendall

from .conftest import Seed, local


def test_space_time_gi_star_equals_gi_star_on_the_cube_weights() -> None:
    cells = with_rings(np.array([h3.str_to_int(h3.latlng_to_cell(28.89, 119.81, 8))]), 2)
    steps = 6
    rng = np.random.default_rng(1)
    counts = rng.poisson(2, (len(cells), steps)).astype(float)
    adjacency = contiguity(cells)
    z, p = space_time_gi_star(counts, adjacency, time_steps=1)
    # The cube's weights: bin (i, t) neighbours (j, s) when j is i or adjacent, and s ∈ {t, t−1}.
    space = (adjacency + sp.identity(len(cells))).tocsr()
    time = sp.identity(steps) + sp.eye(steps, k=-1)
    cube = sp.kron(space, time).tocsr()  # bin index i * steps + t
    reference = gi_star(counts.ravel(), cube)
    np.testing.assert_allclose(z.ravel(), reference.z, atol=1e-9)
    np.testing.assert_allclose(p.ravel(), reference.p, atol=1e-12)


def test_mann_kendall_by_hand() -> None:
    s, z, p = mann_kendall(np.array([[1, 3, 2, 2, 5, 4, 4, 6.0]]))
    # S = 18; ties (2,2), (4,4): Var = (8·7·21 − 2·2·1·9) / 18 = 63.33; z = (18 − 1) / √63.33
    assert s[0] == 18
    assert z[0] == np.float64(17 / np.sqrt((8 * 7 * 21 - 36) / 18))
    assert 0.03 < p[0] < 0.035


def _classify(rows: dict[str, list[float]]) -> dict[str, str]:
    z = np.array(list(rows.values()), dtype=float)
    sig = np.abs(z) >= 1.645
    _, tz, tp = mann_kendall(z)
    return dict(zip(rows, classify_emerging(sig, z, tz, tp), strict=True))


def test_arcgis_categories() -> None:
    rows = {
        "new_hot": [0, 0, 0, 0, 0, 0, 0, 0, 0, 3],
        "consecutive_hot": [0, 0, 0, 0, 0, 0, 0, 2, 3, 3],
        "intensifying_hot": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        "diminishing_hot": [11, 10, 9, 8, 7, 6, 5, 4, 3, 2],
        "persistent_hot": [3, 4, 3, 4, 3, 4, 3, 4, 3, 4],
        "historical_hot": [3, 3, 3, 3, 3, 3, 3, 3, 3, 0],
        "sporadic_hot": [0, 2, 0, 0, 2, 0, 0, 0, 0, 2],
        "oscillating_hot": [-2, 0, 0, 2, 0, 0, 0, 0, 0, 2],
        "new_cold": [0, 0, 0, 0, 0, 0, 0, 0, 0, -3],
        "persistent_cold": [-3, -4, -3, -4, -3, -4, -3, -4, -3, -4],
        "no_pattern": [0, 1, 0, 1, 0, 2, 0, 1, 0, 1],
    }
    assert _classify(rows) == {name: name for name in rows}


def test_a_new_burst_is_a_consecutive_hotspot(db: Connection, seed: Seed) -> None:
    start = dt.date(2025, 3, 3)  # a Monday; 10 weeks
    centre = h3.latlng_to_cell(28.89, 119.81, 8)
    background = [c for c in h3.grid_disk(centre, 6) if h3.grid_distance(c, centre) >= 3]
    for week in range(10):
        day = start + dt.timedelta(days=7 * week + 2)
        for cell in background[::2]:
            la, lo = h3.cell_to_latlng(cell)
            seed.case(lo, la, local(day.year, day.month, day.day, 10))
        if week >= 8:  # a burst in the last two weeks only
            la, lo = h3.cell_to_latlng(centre)
            for _ in range(15):
                seed.case(lo, la, local(day.year, day.month, day.day, 11))
    params = LayerParams(start=start, end=start + dt.timedelta(days=69))
    result = render("emerging", db, params)
    data = result.data.set_index("h3")
    assert result.summary["weeks"] == 10
    assert data.loc[centre, "count"] == 30
    assert data.loc[centre, "category"] == "consecutive_hot"
    assert "连续热点" in [item.label for item in result.legend]
    assert (data.loc[[c for c in background if c in data.index], "category"] != "consecutive_hot").all()


def test_a_final_run_after_an_earlier_hot_step_is_sporadic_not_consecutive() -> None:
    rows = {
        "a": [0, 2, 0, 0, 0, 0, 0, 0, 2, 2],
        "b": [0, 0, 0, 0, 0, 0, 0, 0, 2, 2],
        "c": [-2, 0, 0, 0, 0, 0, 0, 0, 2, 2],
    }
    assert _classify(rows) == {"a": "sporadic_hot", "b": "consecutive_hot", "c": "consecutive_hot"}
