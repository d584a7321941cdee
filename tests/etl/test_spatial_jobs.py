"""Streets, places, stations, routes, chiefs: formats, CRS paths, rejects with reasons, reloads change nothing."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
import shapely.affinity
from shapely.geometry import LineString, MultiLineString, Point
from sqlalchemy import Engine, text

from etl.jobs import chiefs, places, routes, stations, streets
from etl.jobs.registry import Job, job
from geo.crs import from_wgs84
from geo.errors import ConfigError
from geo.settings import PROJECT_ROOT
from geo.spatial import to_metric

SNAPSHOT = "SELECT segment_key, name, township_code, squad_code, length_m, md5(geom::text), run_id FROM street_segments"


def _shift(geoms, crs: str):
    def xy(coords):
        x, y = from_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), xy)


def _max_error_m(engine: Engine, table: str, key: str, truth: dict[str, object], column: str = "geom") -> float:
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {key}, ST_AsBinary({column}) FROM {table}")).all()
    stored = {k: shapely.from_wkb(bytes(g)) for k, g in rows}
    errors = [
        shapely.hausdorff_distance(to_metric(stored[k], "EPSG:4549"), to_metric(truth[k], "EPSG:4549")) for k in truth
    ]
    return float(max(errors))


def test_streets_from_geojson_reject_bad_rows_and_reload_changes_nothing(
    schema_engine: Engine, street_grid, tmp_path: Path, table_rows
) -> None:
    grid = street_grid.iloc[:40].copy()
    x, y = grid.geometry.iloc[0].coords[0]
    bad = gpd.GeoDataFrame(
        {"segment_id": ["B1", "B2", "B3", "S00001", "B5"], "name": ["点", "远", "断", "重复", "空"]},
        geometry=[
            Point(x, y),
            LineString([(121, 30), (121.01, 30)]),
            MultiLineString([[(x, y), (x + 0.001, y)], [(x + 0.01, y), (x + 0.011, y)]]),
            grid.geometry.iloc[1],
            LineString(),
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / "streets.geojson"
    pyogrio.write_dataframe(pd.concat([grid, bad], ignore_index=True), path)
    report = streets.load(schema_engine, path)
    assert (report.read, report.loaded, report.rejected) == (45, 40, 5)
    with schema_engine.connect() as conn:
        rejects = conn.execute(text("SELECT row_number, reason, raw FROM etl_rejects ORDER BY row_number")).all()
        lengths = conn.execute(text("SELECT min(length_m), max(length_m) FROM street_segments")).one()
    reasons = {r.raw["segment_id"]: r.reason for r in rejects}
    assert "Point where a line is expected" in reasons["B1"]
    assert "outside 武义县" in reasons["B2"]
    assert "multi-part line" in reasons["B3"]
    assert "duplicate segment_key 'S00001'" in reasons["S00001"] and "row 2" in reasons["S00001"]
    assert reasons["B5"] in {"empty geometry", "no geometry"}
    assert [r.row_number for r in rejects] == [41, 42, 43, 44, 45]
    assert lengths[0] > 200 and lengths[1] < 1500

    before = table_rows(schema_engine, SNAPSHOT)
    assert streets.load(schema_engine, path).status == "skipped"
    again = streets.load(schema_engine, path, force=True)
    assert again.stats["unchanged"] == 40 and table_rows(schema_engine, SNAPSHOT) == before

    edited = grid.copy()
    edited.loc[3, "name"] = "改名路"
    edited.loc[4, "geometry"] = shapely.affinity.translate(grid.geometry.iloc[4], 0.0001, 0)
    edited_path = tmp_path / "edited.geojson"
    pyogrio.write_dataframe(edited, edited_path)
    changed = streets.load(schema_engine, edited_path)
    assert (changed.stats["inserted"], changed.stats["updated"], changed.stats["unchanged"]) == (0, 2, 38)
    with schema_engine.connect() as conn:
        renamed = conn.execute(text("SELECT name, run_id FROM street_segments WHERE segment_key = 'S00003'")).one()
        kept = conn.execute(text("SELECT run_id FROM street_segments WHERE segment_key = 'S00005'")).scalar()
    assert tuple(renamed) == ("改名路", changed.run_id) and kept == report.run_id


@pytest.mark.parametrize("fmt", ["gpkg_4549", "shp_4490_zip", "kml_ogr2ogr", "folder"])
def test_streets_in_other_formats_and_crs_round_trip_within_a_metre(
    schema_engine: Engine, street_grid, tmp_path: Path, fmt: str
) -> None:
    grid = street_grid.iloc[:25]
    source = tmp_path / "src.geojson"
    pyogrio.write_dataframe(grid, source)
    out = tmp_path / "out"
    out.mkdir()
    if fmt == "gpkg_4549":
        path = out / "streets.gpkg"
        subprocess.run(["ogr2ogr", "-f", "GPKG", "-t_srs", "EPSG:4549", str(path), str(source)], check=True)
    elif fmt == "shp_4490_zip":
        subprocess.run(
            [
                "ogr2ogr",
                "-f",
                "ESRI Shapefile",
                "-a_srs",
                "EPSG:4490",
                "-lco",
                "ENCODING=GBK",
                str(out / "s.shp"),
                str(source),
            ],
            check=True,
        )
        path = tmp_path / "streets.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for item in out.iterdir():
                archive.write(item, f"data/{item.name}")
    elif fmt == "kml_ogr2ogr":
        path = out / "streets.kml"
        subprocess.run(["ogr2ogr", "-f", "KML", str(path), str(source)], check=True)
    else:
        pyogrio.write_dataframe(grid.iloc[:10], out / "a.geojson")
        pyogrio.write_dataframe(grid.iloc[10:], out / "b.geojson")
        (out / "README.txt").write_text("notes, not data")
        path = out
    report = streets.load(schema_engine, path)
    assert (report.read, report.loaded, report.rejected) == (25, 25, 0)
    truth = dict(zip(grid["segment_id"], grid.geometry, strict=True))
    assert _max_error_m(schema_engine, "street_segments", "segment_key", truth) < 1.0
    with schema_engine.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM street_segments")).scalars())
        crs = set(conn.execute(text("SELECT source_crs FROM street_segments")).scalars())
    assert names == set(grid["name"])
    expected = {"gpkg_4549": "EPSG:4549", "shp_4490_zip": "EPSG:4490"}.get(fmt, "EPSG:4326")
    assert crs == {expected}


@pytest.mark.parametrize("crs,how", [("gcj02", "source.toml"), ("bd09", "--crs"), ("gcj02", "--crs")])
def test_places_csv_gbk_in_offset_crs_round_trip_within_a_metre(
    schema_engine: Engine, tmp_path: Path, crs: str, how: str
) -> None:
    truth = {f"P{i}": Point(119.80 + 0.01 * i, 28.88 + 0.005 * i) for i in range(8)}
    lon, lat = from_wgs84([p.x for p in truth.values()], [p.y for p in truth.values()], crs)
    lines = ["place_id,name,kind,address,township,经度,纬度"]
    lines += [
        f"{k},测试小区{i},小区,壶山街道{i}号,,{x:.8f},{y:.8f}"
        for i, (k, x, y) in enumerate(zip(truth, lon, lat, strict=True))
    ]
    lines += ["P90,坏坐标,市场,,,abc,28.9", "P91,,学校,,,119.85,28.9", "P0,重复,市场,,,119.85,28.9"]
    folder = tmp_path / "places"
    folder.mkdir()
    (folder / "places.csv").write_bytes("\n".join(lines).encode("gbk"))
    if how == "source.toml":
        (folder / "source.toml").write_text(f'crs = "{crs}"\n')
    report = places.load(schema_engine, folder, crs=crs if how == "--crs" else None)
    assert (report.read, report.loaded, report.rejected) == (11, 8, 3)
    assert _max_error_m(schema_engine, "places", "place_key", truth) < 1.0
    with schema_engine.connect() as conn:
        row = conn.execute(text("SELECT name, kind, source_crs FROM places WHERE place_key = 'P1'")).one()
        reasons = conn.execute(text("SELECT reason FROM etl_rejects ORDER BY row_number")).scalars().all()
    assert tuple(row) == ("测试小区1", "小区", crs)
    assert "not numbers" in reasons[0] and reasons[1] == "place has no name" and "duplicate place key" in reasons[2]


def test_stations_xlsx_and_wkt_csv_upsert_squads(schema_engine: Engine, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["中队编号", "中队名称", "地址", "联系电话", "在编人数", "经度", "纬度"])
    book.active.append(["ZD01", "壶山中队", "壶山街道", "0579-1", 12, 119.82, 28.90])
    book.active.append(["", "无名中队", "", "", "", 119.83, 28.90])
    book.save(tmp_path / "stations.xlsx")
    report = stations.load(schema_engine, tmp_path / "stations.xlsx")
    assert (report.read, report.loaded, report.rejected) == (2, 1, 1)
    (tmp_path / "wkt").mkdir()
    (tmp_path / "wkt" / "s.csv").write_text("中队名称,wkt\n壶山中队,POINT (119.821 28.901)\n壶山中队,POINT (\n")
    again = stations.load(schema_engine, tmp_path / "wkt")
    assert (again.read, again.loaded, again.rejected) == (2, 1, 1)
    with schema_engine.connect() as conn:
        squad = conn.execute(text("SELECT code, officers, ST_X(station), ST_Y(station) FROM squads")).one()
        reasons = conn.execute(text("SELECT reason FROM etl_rejects ORDER BY id")).scalars().all()
    assert squad[0] == "ZD01" and squad[1] == 12 and abs(squad[2] - 119.821) < 1e-9
    assert "not a known squad" in reasons[0] and "not WKT" in reasons[1]


def _routes_kml(path: Path, lines: list[LineString]) -> None:
    marks = []
    for i, line in enumerate(lines):
        coords = " ".join(f"{x:.8f},{y:.8f},0" for x, y in line.coords)
        marks.append(
            f'<Placemark><name>清扫线{i}</name><ExtendedData><Data name="路线编号"><value>R{i:02d}</value></Data>'
            f'<Data name="车辆"><value>浙G1234{i}</value></Data><Data name="所属中队"><value>壶山中队</value></Data>'
            f"</ExtendedData><LineString><coordinates>{coords}</coordinates></LineString></Placemark>"
        )
    marks.append("<Placemark><name>空线</name><LineString><coordinates></coordinates></LineString></Placemark>")
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<Folder><name>环卫路线</name>{''.join(marks)}</Folder></Document></kml>",
        encoding="utf-8",
    )


def test_routes_kmz_gcj02_link_street_segments_and_offset_is_detected(
    schema_engine: Engine, street_grid, tmp_path: Path
) -> None:
    grid = street_grid.iloc[:60]
    pyogrio.write_dataframe(grid, tmp_path / "streets.geojson")
    streets.load(schema_engine, tmp_path / "streets.geojson")
    route_lines = [
        grid.geometry.iloc[0],
        shapely.line_merge(shapely.union(grid.geometry.iloc[1], grid.geometry.iloc[2])),
    ]
    gcj = list(_shift(route_lines, "gcj02"))
    _routes_kml(tmp_path / "doc.kml", gcj)
    with zipfile.ZipFile(tmp_path / "routes.kmz", "w") as archive:
        archive.write(tmp_path / "doc.kml", "doc.kml")

    offset = routes.load(schema_engine, tmp_path / "routes.kmz")  # GCJ-02 read as WGS-84
    assert any("GCJ-02" in w and "nearest street" in w for w in offset.warnings)
    report = routes.load(schema_engine, tmp_path / "routes.kmz", crs="gcj02", force=True)
    assert not any("GCJ-02" in w for w in report.warnings)
    assert (report.read, report.loaded, report.rejected) == (3, 2, 1)
    with schema_engine.connect() as conn:
        route = conn.execute(
            text("SELECT vehicle, squad_code, source_crs FROM sanitation_routes WHERE route_code='R00'")
        ).one()
        links = conn.execute(
            text(
                "SELECT r.route_code, s.segment_key FROM route_segments JOIN sanitation_routes r ON r.id = route_id "
                "JOIN street_segments s ON s.id = segment_id ORDER BY 1, 2"
            )
        ).all()
    assert route.vehicle == "浙G12340" and route.source_crs == "gcj02"
    assert [tuple(r) for r in links] == [("R00", "S00000"), ("R01", "S00001"), ("R01", "S00002")]
    truth = {"R00": MultiLineString([route_lines[0]])}
    assert _max_error_m(schema_engine, "sanitation_routes", "route_code", truth) < 1.0


def test_gpx_routes_written_by_gdal_load_as_routes(schema_engine: Engine, street_grid, tmp_path: Path) -> None:
    lines = gpd.GeoDataFrame({"name": ["GPX线一", "GPX线二"]}, geometry=list(street_grid.geometry.iloc[:2]), crs=4326)
    pyogrio.write_dataframe(lines, tmp_path / "r.gpx", layer="routes", driver="GPX")
    report = routes.load(schema_engine, tmp_path / "r.gpx")
    assert (report.read, report.loaded, report.rejected) == (2, 2, 0)
    with schema_engine.connect() as conn:
        assert set(conn.execute(text("SELECT route_code FROM sanitation_routes")).scalars()) == {"GPX线一", "GPX线二"}


def test_street_grid_offset_warns_only_when_offset(schema_engine: Engine, street_grid, tmp_path: Path) -> None:
    pyogrio.write_dataframe(street_grid, tmp_path / "ok.geojson")
    assert not any("GCJ-02" in w for w in streets.load(schema_engine, tmp_path / "ok.geojson").warnings)
    shifted = street_grid.copy()
    shifted["geometry"] = _shift(street_grid.geometry.values, "gcj02")
    shifted["segment_id"] = "G" + shifted["segment_id"]
    pyogrio.write_dataframe(shifted, tmp_path / "gcj.geojson")
    report = streets.load(schema_engine, tmp_path / "gcj.geojson")
    assert any("GCJ-02" in w and "outside the county" in w for w in report.warnings)


def test_chiefs_link_segments_warn_on_unknown_streets_and_reject_bad_rows(
    schema_engine: Engine, street_grid, tmp_path: Path, table_rows
) -> None:
    pyogrio.write_dataframe(street_grid.iloc[:12], tmp_path / "streets.geojson")
    streets.load(schema_engine, tmp_path / "streets.geojson")
    names = list(street_grid["name"].iloc[:12])
    book = openpyxl.Workbook()
    for row in [
        ["街路长编号", "姓名", "联系电话", "所属中队", "职务", "负责街路"],
        ["JL001", "张三", "138", "壶山中队", "路长", f"{names[0]}、{names[1]}、不存在路"],
        ["JL002", "李四", "139", "", "巷长", names[4]],
        ["", "王五", "", "", "", names[5]],
        ["JL001", "重复", "", "", "", ""],
    ]:
        book.active.append(row)
    book.save(tmp_path / "street_chiefs.xlsx")
    report = chiefs.load(schema_engine, tmp_path / "street_chiefs.xlsx")
    assert (report.read, report.loaded, report.rejected) == (4, 2, 2)
    assert any("JL001" in w and "不存在路" in w and "row 2" in w for w in report.warnings)
    with schema_engine.connect() as conn:
        reasons = conn.execute(text("SELECT row_number, reason FROM etl_rejects ORDER BY row_number")).all()
        links = conn.execute(
            text(
                "SELECT c.code, s.name FROM chief_segments cs JOIN street_chiefs c ON c.id = cs.chief_id "
                "JOIN street_segments s ON s.id = cs.segment_id"
            )
        ).all()
    assert reasons[0].row_number == 4 and "needs a code" in reasons[0].reason
    assert reasons[1].row_number == 5 and "duplicate chief code" in reasons[1].reason
    wanted = {n: names.count(n) for n in names}
    assert len(links) == wanted[names[0]] + wanted[names[1]] + wanted[names[4]]
    before = table_rows(
        schema_engine,
        "SELECT c.code, c.name, c.run_id, cs.segment_id FROM street_chiefs c "
        "JOIN chief_segments cs ON cs.chief_id = c.id",
    )
    again = chiefs.load(schema_engine, tmp_path / "street_chiefs.xlsx", force=True)
    assert again.stats["chief_segments"]["added"] == again.stats["chief_segments"]["removed"] == 0
    assert (
        table_rows(
            schema_engine,
            "SELECT c.code, c.name, c.run_id, cs.segment_id FROM street_chiefs c "
            "JOIN chief_segments cs ON cs.chief_id = c.id",
        )
        == before
    )


def test_load_command_dispatches_and_names_missing_jobs(schema_url, street_grid, tmp_path: Path) -> None:
    pyogrio.write_dataframe(street_grid.iloc[:5], tmp_path / "s.geojson")
    env = {"DATABASE_URL": schema_url.render_as_string(hide_password=False), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "etl", "load", "streets", str(tmp_path / "s.geojson")],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "succeeded" in done.stdout and "ETL summary" in done.stdout
    assert job("streets").job_module() is streets
    missing = Job("no_such_kind", "etl.jobs.no_such_kind", "nothing", "squads", ("code",))
    with pytest.raises(ConfigError, match=r"module etl\.jobs\.no_such_kind is missing"):
        missing.job_module()
