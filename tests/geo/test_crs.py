"""Coordinate conversions: GCJ-02 and BD-09 round trips, EPSG paths, CRS names."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geo.crs import (
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_wgs84,
    normalize_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.errors import ConfigError

GEOD = Geod(ellps="WGS84")
rng = np.random.default_rng(7)
LON = rng.uniform(119.45, 119.97, 500)
LAT = rng.uniform(28.52, 29.06, 500)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_gcj02_offset_in_wuyi_is_about_500_m() -> None:
    glon, glat = wgs84_to_gcj02(LON, LAT)
    offset = _metres(LON, LAT, glon, glat)
    assert offset.min() > 300 and offset.max() < 800
    # the shared reference notes ~+0.0042 lon / -0.0027 lat here
    assert np.allclose(glon - LON, 0.0042, atol=0.0015)
    assert np.allclose(glat - LAT, -0.0027, atol=0.0015)


@pytest.mark.parametrize("forward,inverse", [(wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)])
def test_offset_round_trip_within_a_centimetre(forward, inverse) -> None:
    back = inverse(*forward(LON, LAT))
    assert _metres(LON, LAT, *back).max() < 0.01


@pytest.mark.parametrize("crs", ["EPSG:4549", "EPSG:4490", "EPSG:3857", "gcj02", "bd09", "EPSG:4326"])
def test_every_supported_crs_round_trips_within_1_m(crs: str) -> None:
    x, y = from_wgs84(LON, LAT, crs)
    back = to_wgs84(x, y, crs)
    assert _metres(LON, LAT, *back).max() < 1.0


def test_metric_crs_gives_metres() -> None:
    x, _y = from_wgs84([119.8, 119.81], [28.9, 28.9], "EPSG:4549")
    assert 900 < abs(x[1] - x[0]) < 1000  # 0.01° of longitude at 28.9°N is ~975 m
    assert 400_000 < x[0] < 600_000  # false easting 500 km, CM 120°E


@pytest.mark.parametrize(
    "given,expected",
    [
        ("GCJ-02", "gcj02"),
        ("gcj02", "gcj02"),
        ("BD09", "bd09"),
        ("wgs84", "EPSG:4326"),
        (4490, "EPSG:4490"),
        ("EPSG:4549", "EPSG:4549"),
        (None, "EPSG:4326"),
    ],
)
def test_normalize_crs(given, expected) -> None:
    assert normalize_crs(given) == expected


def test_unknown_crs_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown coordinate system"):
        normalize_crs("mars-2")
