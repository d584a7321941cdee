"""Basemap configuration: offline vector tiles from PostGIS, 天地图, XYZ, local tiles served by the app, GCJ-02."""

from __future__ import annotations

import json
import math
import uuid

import numpy as np
import plotly.graph_objects as go
import pytest
from sqlalchemy import text

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


def _symbol_fonts(style: dict) -> set[str]:
    return {font for layer in style["layers"] if layer["type"] == "symbol" for font in layer["layout"]["text-font"]}


def test_offline_basemap_is_vector_tiles_with_names_in_the_apps_font(seeded, setting) -> None:
    setting(EGIS_BASEMAP="offline")
    style = basemap.map_style()
    assert set(style["sources"]) == {"basemap"} and style["sources"]["basemap"]["type"] == "vector"
    assert style["sources"]["basemap"]["tiles"][0].startswith(basemap.VECTOR_TILE_ROUTE)
    assert "glyphs" not in style  # MapLibre draws every character itself: nothing from the internet
    assert style["font-faces"] == {basemap.MAP_FONT: basemap.FONT_ROUTE} and _symbol_fonts(style) == {basemap.MAP_FONT}
    ids = [layer["id"] for layer in style["layers"]]
    assert {"label-squad", "label-township", "label-village", "label-street", "label-station"} <= set(ids)
    assert ids.index(basemap.LABELS_BELOW) < ids.index("label-village")  # traces go below every name
    assert all(layer.get("source") == "basemap" for layer in style["layers"] if layer["type"] != "background")
    assert len(json.dumps(style, ensure_ascii=False).encode()) < 20_000  # no geometry in the page any more
    dark = basemap.map_style(dark=True)
    assert dark["layers"][0]["paint"]["background-color"] == basemap.DARK.background
    assert dark["sources"] == style["sources"]  # the same tiles for the light and the dark (wall) style


def _login(client, role: str = "viewer"):
    username = f"tiles-{uuid.uuid4().hex[:8]}"
    add_user(writer_engine(), username, "tiles-password", role)
    client.get("/login")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    client.post("/login", data={"username": username, "password": "tiles-password", "csrf": csrf})
    return client


def test_vector_tiles_carry_names_and_are_revalidated_by_data_version(seeded, setting) -> None:
    setting(EGIS_BASEMAP="offline", EGIS_DASH_CACHE_S="0")
    from dashboard.app import create_app

    client = create_app().server.test_client()
    z, x, y = 15, *_tile_of(*_street_point("解放街"), 15)
    path = f"/basemap/tiles/{z}/{x}/{y}.pbf"
    assert client.get(path).status_code == 401  # county data: only after login
    _login(client)
    first = client.get(path)
    assert first.status_code == 200 and first.mimetype == "application/vnd.mapbox-vector-tile"
    for layer in (b"streets", b"street_names", b"county"):
        assert layer in first.data
    assert "解放街".encode() in first.data
    assert first.headers["Cache-Control"] == "private, no-cache"  # no version in the URL: revalidate
    etag = first.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    version = etag.strip('"').split("-")[0]
    assert "max-age=86400" in client.get(f"{path}?v={version}").headers["Cache-Control"]
    with writer_engine().begin() as conn:  # a new successful street load: every tile changes version
        run = conn.execute(
            text(
                "INSERT INTO etl_runs (job, source_path, status, finished_at) "
                "VALUES ('streets', 'x', 'succeeded', now()) RETURNING id"
            )
        ).scalar_one()
    try:
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 200 and again.headers["ETag"].strip('"').split("-")[0] == str(run)
        assert basemap.map_style()["sources"]["basemap"]["tiles"][0].endswith(f"?v={run}")
    finally:
        with writer_engine().begin() as conn:
            conn.execute(text("DELETE FROM etl_runs WHERE id = :id"), {"id": run})
    assert client.get("/basemap/tiles/3/9/1.pbf").status_code == 404  # outside the tile grid
    font = client.get("/basemap/font")
    assert font.status_code == 200 and font.data[:4] == b"\x00\x01\x00\x00"  # TrueType, not a collection


def test_county_zoom_tiles_leave_out_street_names(seeded, setting) -> None:
    from layers.queries.basemap_tiles import basemap_tile

    lon, lat = _street_point("解放街")
    with writer_engine().connect() as conn:
        county = basemap_tile(conn, 10, *_tile_of(lon, lat, 10))
        near = basemap_tile(conn, 14, *_tile_of(lon, lat, 14))
    assert b"townships" in county and b"street_names" not in county
    assert b"street_names" in near and "解放街".encode() in near


def _street_point(name: str) -> tuple[float, float]:
    with writer_engine().connect() as conn:
        return conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) c FROM street_segments"
                " WHERE name = :n AND squad_code = 'ZD01') s"
            ),
            {"n": name},
        ).one()


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    lat_r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(lat_r) + 1 / math.cos(lat_r)) / math.pi) / 2 * n)


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
    assert client.get("/basemap-tiles/10/850/420.png").status_code == 401  # tiles only after login
    _login(client)
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
    from layers.queries.basemap_tiles import tile_centre

    z, x, y = 14, *_tile_of(119.815, 28.893, 14)  # vector tiles move by the offset at their centre …
    dx, dy = basemap.display_shift(*tile_centre(z, x, y))
    assert dx > 0.002
    west, north = tile_centre(z + 1, 2 * x, 2 * y)  # centres of the child tiles: inside the tile, near its corners
    east, south = tile_centre(z + 1, 2 * x + 1, 2 * y + 1)
    pixel_m = 2 * math.pi * 6378137 * math.cos(math.radians(28.9)) / 2**z / 512
    for lon, lat in ((west, north), (east, south), (west, south), (east, north)):  # … under a pixel off inside it
        true_lon, true_lat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
        assert math.hypot((true_lon[0] - lon - dx) * 97_000, (true_lat[0] - lat - dy) * 111_000) < pixel_m
    setting(EGIS_BASEMAP_CRS="wgs84")
    assert basemap.display_shift(119.8, 28.9) == (0.0, 0.0)
    assert basemap.for_display([go.Scattermap(lon=[119.8], lat=[28.9])])[0].lon == (119.8,)
