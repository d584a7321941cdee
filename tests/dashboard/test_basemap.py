"""Basemap configuration: offline layers from PostGIS, 天地图, XYZ, local tiles served by the app, GCJ-02 shift."""

from __future__ import annotations

import json
import uuid

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard import basemap
from dashboard.access.store import add_user
from geo.crs import wgs84_to_gcj02
from geo.db import writer_engine
from geo.errors import ConfigError
from geo.settings import get_settings


@pytest.fixture
def setting(monkeypatch):
    """Set basemap environment variables for one test."""

    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_
    get_settings.cache_clear()


def test_offline_basemap_draws_county_townships_and_streets_from_postgis(seeded, setting) -> None:
    setting(EGIS_BASEMAP="offline")
    basemap._cache.clear()
    style = basemap.map_style(detail="full", squads=("ZD01",))
    assert {"county", "township", "street"} <= set(style["sources"])
    assert len(style["sources"]["county"]["data"]["features"]) == 1
    assert len(style["sources"]["township"]["data"]["features"]) >= 13
    streets = style["sources"]["street"]["data"]["features"]
    assert len(streets) == 6 and {f["properties"]["name"] for f in streets} >= {"解放街", "熟溪路"}
    assert all(s.get("type") != "raster" for s in style["sources"].values())  # nothing from the internet
    assert len(json.dumps(style, ensure_ascii=False).encode()) < 1024 * 1024
    dark = basemap.map_style(dark=True)
    assert dark["layers"][0]["paint"]["background-color"] == basemap.DARK.background
    county_wide = basemap.map_style()
    assert all(
        f["properties"]["road_class"] in ("主干路", "次干路")
        for f in county_wide["sources"]["street"]["data"]["features"]
    )


def test_tianditu_needs_a_key_and_uses_its_tiles(setting) -> None:
    setting(EGIS_BASEMAP="tianditu", EGIS_TIANDITU_KEY="")
    with pytest.raises(ConfigError, match="EGIS_TIANDITU_KEY"):
        basemap.config()
    setting(EGIS_TIANDITU_KEY="abc123")
    style = basemap.map_style()
    assert (
        "tianditu.gov.cn" in style["sources"]["tiles"]["tiles"][0]
        and "tk=abc123" in style["sources"]["tiles"]["tiles"][0]
    )
    assert "labels" in style["sources"]  # the annotation layer on top


def test_xyz_url_and_unknown_values(setting) -> None:
    setting(EGIS_BASEMAP="https://tiles.example/{z}/{x}/{y}.png")
    assert basemap.map_style()["sources"]["tiles"]["tiles"] == ["https://tiles.example/{z}/{x}/{y}.png"]
    setting(EGIS_BASEMAP="osm")
    with pytest.raises(ConfigError, match="EGIS_BASEMAP"):
        basemap.config()


def test_local_tiles_are_served_by_the_app(setting, tmp_path, test_url) -> None:
    (tmp_path / "10" / "850").mkdir(parents=True)
    (tmp_path / "10" / "850" / "420.png").write_bytes(b"\x89PNG tile")
    setting(EGIS_BASEMAP=f"local:{tmp_path}")
    assert basemap.map_style()["sources"]["tiles"]["tiles"] == ["/basemap-tiles/{z}/{x}/{y}.png"]
    from dashboard.app import create_app

    client = create_app().server.test_client()
    assert client.get("/basemap-tiles/10/850/420.png").status_code == 302  # tiles only after login
    username = f"tiles-{uuid.uuid4().hex[:8]}"
    add_user(writer_engine(), username, "tiles-password", "viewer")
    client.get("/login")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    client.post("/login", data={"username": username, "password": "tiles-password", "csrf": csrf})
    assert client.get("/basemap-tiles/10/850/420.png").data == b"\x89PNG tile"
    assert client.get("/basemap-tiles/10/850/421.png").status_code == 404
    assert client.get("/basemap-tiles/10/850/420.exe").status_code == 404


def test_gcj02_basemap_shifts_the_data_for_display(setting) -> None:
    setting(EGIS_BASEMAP="https://amap.example/{z}/{x}/{y}.png", EGIS_BASEMAP_CRS="gcj02")
    point = go.Scattermap(lon=[119.8, None], lat=[28.9, None])
    ring = [[119.8, 28.9], [119.81, 28.9], [119.8, 28.91], [119.8, 28.9]]
    feature = {"type": "Feature", "id": "a", "geometry": {"type": "Polygon", "coordinates": [ring]}}
    area = go.Choroplethmap(geojson={"type": "FeatureCollection", "features": [feature]}, locations=["a"], z=[1])
    shifted_point, shifted_area = basemap.for_display([point, area])
    lon, lat = wgs84_to_gcj02(119.8, 28.9)
    assert shifted_point.lon[0] == pytest.approx(float(lon)) and shifted_point.lat[0] == pytest.approx(float(lat))
    assert np.isnan(shifted_point.lon[1])  # line breaks stay breaks
    first = shifted_area.geojson["features"][0]["geometry"]["coordinates"][0][0]
    assert first == pytest.approx([float(lon), float(lat)], abs=1e-6)
    setting(EGIS_BASEMAP_CRS="wgs84")
    assert basemap.for_display([go.Scattermap(lon=[119.8], lat=[28.9])])[0].lon == (119.8,)
