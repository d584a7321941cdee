"""Case rates per km² and per km of street, and the change on the previous window."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Connection

from layers.base import LayerParams
from layers.registry import render

from .conftest import Seed, local


def test_rates_show_a_rising_rural_township(db: Connection, seed: Seed) -> None:
    # Old town: small, 3 km of street, busy but steady. Rural: large, 1 km of street, rising.
    seed.area("330723001", "老城", "township", (119.80, 28.88, 119.81, 28.89), area_km2=1.0)
    seed.area("330723002", "山乡", "township", (119.81, 28.88, 119.90, 28.97), area_km2=80.0)
    seed.segment("a", [(119.801, 28.885), (119.809, 28.885)], length_m=3000.0)
    seed.segment("b", [(119.85, 28.90), (119.86, 28.90)], length_m=1000.0)
    for day, n_town, n_rural in ((dt.date(2025, 4, 5), 30, 1), (dt.date(2025, 5, 5), 30, 9)):
        for _ in range(n_town):
            seed.case(119.805, 28.885, local(day.year, day.month, day.day, 9))
        for _ in range(n_rural):
            seed.case(119.85, 28.90, local(day.year, day.month, day.day, 9))
    params = LayerParams(start=dt.date(2025, 5, 1), end=dt.date(2025, 5, 30), metric="change_per_km")
    result = render("case_rates", db, params)
    data = result.data.set_index("unit")
    assert data.loc["330723001", "count"] == 30 and data.loc["330723001", "prev_count"] == 30
    assert data.loc["330723001", "per_km2"] == pytest.approx(30.0)
    assert data.loc["330723001", "per_km"] == pytest.approx(10.0)
    assert data.loc["330723002", "per_km"] == pytest.approx(9.0)
    assert data.loc["330723002", "per_km2"] == pytest.approx(9 / 80)
    assert data.loc["330723002", "change_per_km"] == pytest.approx(8.0)
    assert data.loc["330723001", "change_per_km"] == pytest.approx(0.0)
    assert result.summary["top5"][0]["name"].startswith("山乡")
    with pytest.raises(ValueError, match="metric"):
        render("case_rates", db, LayerParams(metric="nonsense"))
