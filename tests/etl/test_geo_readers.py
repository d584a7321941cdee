"""Geo readers: shapefile code pages, KML written by GDAL, GPX layers, zips with source.toml, unreadable files."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import Engine, text

from etl.jobs import places, streets
from etl.mapping import load_mapping
from etl.readers.gpx import read_gpx_lines
from etl.readers.input_files import GEO_SUFFIXES, read_source_file, source_files
from etl.readers.kml import read_kml
from etl.readers.vector import read_vector, shapefile_encoding
from etl.source_crs import declared_crs, resolve_crs
from geo.errors import ConfigError, InputError

FRAME = gpd.GeoDataFrame(
    {"路线编号": ["R01", "R02"], "名称": ["解放街清扫线", "熟溪路清扫线"]},
    geometry=[LineString([(119.81, 28.90), (119.82, 28.90)]), LineString([(119.81, 28.91), (119.82, 28.91)])],
    crs="EPSG:4326",
)


@pytest.mark.parametrize(
    "encoding,keep_cpg,expected", [("GBK", True, "gb18030"), ("GBK", False, "gb18030"), ("UTF-8", False, "utf-8")]
)
def test_shapefile_code_page_from_cpg_or_detected(tmp_path: Path, encoding: str, keep_cpg: bool, expected: str) -> None:
    path = tmp_path / "r.shp"
    # DBF field names hold 10 bytes: 名称 fits in GBK and UTF-8; 路线编号 would be cut mid-character in UTF-8
    pyogrio.write_dataframe(FRAME[["名称", "geometry"]], path, encoding=encoding)
    if not keep_cpg:
        path.with_suffix(".cpg").unlink()
    assert shapefile_encoding(path) == expected
    [layer] = read_vector(path)
    assert list(layer.frame["名称"]) == ["解放街清扫线", "熟溪路清扫线"]
    assert list(layer.frame["_row"]) == [1, 2] and layer.crs == "EPSG:4326"


def test_kml_written_by_ogr2ogr_keeps_chinese_field_names(tmp_path: Path) -> None:
    source = tmp_path / "r.geojson"
    pyogrio.write_dataframe(FRAME, source)
    subprocess.run(["ogr2ogr", "-f", "KML", str(tmp_path / "r.kml"), str(source)], check=True)
    [layer] = read_kml(tmp_path / "r.kml")
    assert list(layer.frame["路线编号"]) == ["R01", "R02"]
    assert list(layer.frame["名称"]) == ["解放街清扫线", "熟溪路清扫线"]
    assert layer.frame.geometry.iloc[0].equals_exact(FRAME.geometry.iloc[0], 1e-9)


def test_kml_polygons_multigeometry_and_bad_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "p.kml"
    path.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>面</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        "119.8,28.9 119.81,28.9 119.81,28.91 119.8,28.9</coordinates></LinearRing></outerBoundaryIs>"
        "</Polygon></Placemark>"
        "<Placemark><name>多点</name><MultiGeometry><Point><coordinates>119.8,28.9</coordinates></Point>"
        "<Point><coordinates>119.9,28.9</coordinates></Point></MultiGeometry></Placemark>"
        "<Placemark><name>坏</name><Point><coordinates>abc,def</coordinates></Point></Placemark>"
        "</Document></kml>",
        encoding="utf-8",
    )
    [layer] = read_kml(path)
    assert isinstance(layer.frame.geometry.iloc[0], Polygon)
    assert layer.frame.geometry.iloc[1].geom_type == "MultiPoint"
    assert layer.frame.geometry.iloc[2] is None and "bad KML coordinates" in layer.problems[2]


def test_gpx_reads_routes_and_tracks_not_the_fixes(tmp_path: Path) -> None:
    path = tmp_path / "t.gpx"
    pyogrio.write_dataframe(
        FRAME[["名称", "geometry"]].rename(columns={"名称": "name"}), path, layer="routes", driver="GPX"
    )
    layers = read_gpx_lines(path)
    assert [layer.source.rsplit("#", 1)[-1] for layer in layers] == ["routes"]
    assert list(layers[0].frame["name"]) == ["解放街清扫线", "熟溪路清扫线"]


def test_zip_member_takes_crs_from_source_toml_inside_the_zip(tmp_path: Path) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "places.csv").write_text("name,经度,纬度\n甲,119.8,28.9\n", encoding="utf-8")
    (folder / "source.toml").write_text('crs = "bd09"\n')
    archive = tmp_path / "places.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for item in folder.iterdir():
            handle.write(item, f"inner/{item.name}")
    with source_files(archive, GEO_SUFFIXES) as files:
        [source] = files
        [layer] = read_source_file(source, load_mapping("places"))
    assert source.name == f"{archive}!inner/places.csv" and layer.source == source.name
    assert declared_crs(None, source.config) == "bd09" and declared_crs("gcj02", source.config) == "gcj02"
    assert layer.frame.geometry.iloc[0] == Point(119.8, 28.9)


def test_offset_crs_declared_for_a_projected_file_is_an_error() -> None:
    with pytest.raises(ConfigError, match="projected EPSG:4549"):
        resolve_crs("gcj02", "EPSG:4549", "x.gpkg")
    assert resolve_crs(None, None, "x.csv") == "EPSG:4326"
    assert resolve_crs("gcj02", "EPSG:4490", "x.shp") == "gcj02"


def test_an_unreadable_file_fails_the_job_naming_it_and_loads_nothing(schema_engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "streets"
    folder.mkdir()
    pyogrio.write_dataframe(FRAME.rename(columns={"名称": "name"}), folder / "a.geojson")
    (folder / "b.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(InputError, match=r"b\.geojson"):
        streets.load(schema_engine, folder)
    with schema_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM street_segments")).scalar() == 0
        run = conn.execute(text("SELECT status, error FROM etl_runs")).one()
    assert run.status == "failed" and "b.geojson" in run.error


def test_a_table_without_coordinate_columns_is_an_error_naming_the_headers(
    schema_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "places.csv"
    path.write_text("name,地址\n甲,壶山街道\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no coordinate columns.*headers: name, 地址"):
        places.load(schema_engine, path)


def test_projected_coordinates_without_prj_stop_the_job_with_advice(schema_engine: Engine, tmp_path: Path) -> None:
    projected = FRAME[["名称", "geometry"]].rename(columns={"名称": "name"}).to_crs("EPSG:4549")
    pyogrio.write_dataframe(projected, tmp_path / "s.shp", encoding="UTF-8")
    (tmp_path / "s.prj").unlink()
    with pytest.raises(ConfigError, match=r"not degrees.*--crs"):
        streets.load(schema_engine, tmp_path / "s.shp")
    report = streets.load(schema_engine, tmp_path / "s.shp", crs="EPSG:4549")
    assert (report.read, report.loaded, report.rejected) == (2, 2, 0)
