"""The ``basemap`` load: water, green space and buildings from a vector file, in the tiles, replaced by a re-load."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, Point, Polygon, box
from sqlalchemy import Engine, text

from etl.jobs import basemap
from etl.validate import coerce
from layers.queries.basemap_tiles import basemap_tile, basemap_version

TOWN = (119.815, 28.893)  # the county town


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    lat_r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(lat_r) + 1 / math.cos(lat_r)) / math.pi) / 2 * n)


def _water_file(folder: Path) -> Path:
    """A GeoPackage in the Gauss-Krüger CRS (declared in the file): layers ``water``, ``buildings``, ``parcels``."""
    x, y = TOWN
    path = folder / "reference.gpkg"
    water = gpd.GeoDataFrame(
        {"名称": ["熟溪", "温泉湖"], "编号": ["W1", "W2"]},
        geometry=[LineString([(x - 0.02, y), (x + 0.02, y + 0.002)]), box(x + 0.004, y + 0.004, x + 0.008, y + 0.007)],
        crs="EPSG:4326",
    )
    buildings = gpd.GeoDataFrame(
        {"名称": ["执法局大楼", "远方的楼", "空楼"], "编号": ["B1", "B2", "B3"]},
        geometry=[
            box(x - 0.0004, y - 0.0004, x + 0.0004, y + 0.0003),
            box(121.0, 30.0, 121.001, 30.001),  # far outside the county
            Polygon(),
        ],
        crs="EPSG:4326",
    )
    parcels = gpd.GeoDataFrame({"名称": ["地块"]}, geometry=[box(x, y, x + 0.001, y + 0.001)], crs="EPSG:4326")
    for name, frame in (("water", water), ("buildings", buildings), ("parcels", parcels)):
        pyogrio.write_dataframe(frame.to_crs("EPSG:4549"), path, layer=name)
    return path


def _features(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT feature_key, layer, name FROM basemap_features")).all()
    return {key: (layer, name) for key, layer, name in rows}


def test_reference_layers_load_from_a_declared_crs_and_bad_rows_are_rejected_with_reasons(
    schema_engine: Engine, tmp_path: Path
) -> None:
    report = basemap.load(schema_engine, _water_file(tmp_path))
    assert (report.read, report.loaded, report.rejected) == (6, 3, 3)
    assert _features(schema_engine) == {
        "water:W1": ("water", "熟溪"),
        "water:W2": ("water", "温泉湖"),
        "building:B1": ("building", "执法局大楼"),
    }
    with schema_engine.connect() as conn:
        rejects = conn.execute(text("SELECT reason, raw FROM etl_rejects ORDER BY id")).all()
        x, y = conn.execute(
            text(
                "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM basemap_features"
                " WHERE name = '执法局大楼'"
            )
        ).one()
    reasons = {r.raw["名称"]: r.reason for r in rejects}
    assert "outside 武义县" in reasons["远方的楼"]
    assert reasons["空楼"] in {"empty geometry", "no geometry"}
    assert "unknown basemap layer 'parcels'" in reasons["地块"] and "water" in reasons["地块"]
    assert x == pytest.approx(TOWN[0], abs=1e-6) and y == pytest.approx(TOWN[1] - 0.00005, abs=1e-6)  # from EPSG:4549


def test_tiles_carry_the_reference_features_and_a_reload_replaces_the_layer(
    schema_engine: Engine, tmp_path: Path
) -> None:
    basemap.load(schema_engine, _water_file(tmp_path))
    with schema_engine.connect() as conn:
        version = basemap_version(conn)
        near = basemap_tile(conn, 15, *_tile_of(*TOWN, 15))
        county = basemap_tile(conn, 11, *_tile_of(*TOWN, 11))
    assert version > 0  # a basemap load is a new tile version (new ETag and URL)
    assert b"reference" in near and "熟溪".encode() in near and "执法局大楼".encode() in near
    assert "熟溪".encode() in county and "执法局大楼".encode() not in county  # buildings only when zoomed in

    # A corrected water file (one layer column, no file-name layer) replaces the water layer only.
    x, y = TOWN
    corrected = gpd.GeoDataFrame(
        {"类型": ["水系"], "名称": ["熟溪（新测）"], "编号": ["W9"]},
        geometry=[LineString([(x - 0.02, y + 0.001), (x + 0.02, y + 0.003)])],
        crs="EPSG:4326",
    )
    path = tmp_path / "survey.geojson"
    pyogrio.write_dataframe(corrected, path)
    report = basemap.load(schema_engine, path)
    assert (report.read, report.loaded, report.rejected) == (1, 1, 0)
    assert _features(schema_engine) == {
        "water:W9": ("water", "熟溪（新测）"),
        "building:B1": ("building", "执法局大楼"),
    }
    with schema_engine.connect() as conn:
        assert basemap_version(conn) > version
        near = basemap_tile(conn, 15, *_tile_of(*TOWN, 15))
    assert "熟溪（新测）".encode() in near and "温泉湖".encode() not in near
    # The same file again changes nothing.
    again = basemap.load(schema_engine, path, force=True)
    assert again.rejected == 0 and _features(schema_engine) == {
        "water:W9": ("water", "熟溪（新测）"),
        "building:B1": ("building", "执法局大楼"),
    }


def test_any_geometry_keeps_its_highest_dimension() -> None:
    mixed = Point(0, 0).union(LineString([(1, 1), (2, 2)])).union(box(3, 3, 4, 4))
    assert coerce(mixed, "any")[0].geom_type == "MultiPolygon"
    assert coerce(LineString([(0, 0), (1, 1)]), "any")[0].geom_type == "MultiLineString"
    assert coerce(Point(1, 1), "any")[0].geom_type == "Point"
    assert coerce(Polygon(), "any") == (None, "empty geometry")
