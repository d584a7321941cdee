"""The demo's raw files parse with ordinary tools and follow the contract (formats, headers, encodings, CRS)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import gpxpy
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import shapely
from lxml import etree

from etl.demo.cases import CASE_COLUMNS
from geo.crs import gcj02_to_wgs84
from geo.region import Region

KML = "{http://www.opengis.net/kml/2.2}"


def test_jurisdictions_are_a_gbk_shapefile_in_cgcs2000_tiling_the_county(demo_dir: Path, region: Region) -> None:
    path = demo_dir / "raw/jurisdictions/squad_jurisdictions.zip"
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        dbf = archive.read("squad_jurisdictions.dbf")
        cpg = archive.read("squad_jurisdictions.cpg").decode("ascii")
        prj = archive.read("squad_jurisdictions.prj").decode("ascii")
    assert [Path(n).suffix for n in names] == [".cpg", ".dbf", ".prj", ".shp", ".shx"]
    assert cpg.strip() == "GBK" and "2000" in prj
    assert "白洋中队".encode("gbk") in dbf and "白洋中队".encode() not in dbf
    frame = pyogrio.read_dataframe(f"/vsizip/{path}/squad_jurisdictions.shp")
    assert frame.crs.to_epsg() == 4490
    assert list(frame.columns[:3]) == ["ZDBM", "ZDMC", "XZQMC"]
    assert list(frame["ZDBM"]) == [f"ZD{i:02d}" for i in range(1, 14)]
    assert frame["ZDMC"].str.endswith("中队").all() and "白洋中队" in set(frame["ZDMC"])
    assert frame.loc[frame["ZDMC"] == "柳城中队", "XZQMC"].item() == "柳城畲族镇、西联乡"
    metric = frame.to_crs(region.metric_crs)
    county = gpd.GeoSeries([region.outline], crs=4326).to_crs(region.metric_crs).item()
    assert abs(metric.area.sum() - county.area) / county.area < 1e-4
    assert abs(shapely.union_all(metric.geometry).area - county.area) / county.area < 1e-4


def test_streets_geojson_has_segments_with_door_numbers_odd_left_even_right(demo_dir: Path, region: Region) -> None:
    streets = gpd.read_file(demo_dir / "raw/streets/streets.geojson")
    assert streets.crs.to_epsg() == 4326
    expected = ["segment_id", "name", "road_class", "township", "left_from", "left_to", "right_from", "right_to"]
    assert list(streets.columns[:-1]) == expected
    assert streets["segment_id"].is_unique
    assert set(streets["road_class"]) == {"主干路", "次干路", "支路", "巷", "乡村道路"}
    assert streets["township"].str.fullmatch(r"330723\d{3}").all()
    doors = streets.dropna(subset=["left_from"])
    assert len(doors) > 0.4 * len(streets)
    assert (doors["left_from"] % 2 == 1).all() and (doors["left_to"] % 2 == 1).all()
    assert (doors["right_from"] % 2 == 0).all() and (doors["right_to"] % 2 == 0).all()
    assert (doors["left_to"] >= doors["left_from"]).all()
    urban = streets[streets["township"].isin(["330723001", "330723002", "330723003"])]
    assert urban["name"].str.endswith("巷").any() and urban["name"].str.endswith("街").any()
    coords = shapely.get_coordinates(streets.geometry.values)
    assert shapely.contains_xy(region.outline.buffer(0.002), coords[:, 0], coords[:, 1]).all()


def test_places_and_stations_are_gcj02_csvs_inside_the_county(demo_dir: Path, region: Region) -> None:
    places = pd.read_csv(demo_dir / "raw/places/places.csv", encoding="utf-8-sig", dtype=str)
    stations = pd.read_csv(demo_dir / "raw/stations/stations.csv", encoding="gbk", dtype=str)
    assert list(places.columns) == ["place_id", "name", "kind", "address", "township", "经度", "纬度"]
    assert list(stations.columns) == ["中队编号", "中队名称", "地址", "联系电话", "在编人数", "经度", "纬度"]
    assert {"小区", "市场", "学校", "医院", "工地"} <= set(places["kind"])
    assert 'crs = "gcj02"' in (demo_dir / "raw/places/source.toml").read_text(encoding="utf-8")
    assert len(stations) == 13 and stations["在编人数"].astype(int).sum() == region.officers
    jurisdictions = pyogrio.read_dataframe(
        f"/vsizip/{demo_dir / 'raw/jurisdictions/squad_jurisdictions.zip'}/squad_jurisdictions.shp"
    ).set_index("ZDBM")
    lon, lat = gcj02_to_wgs84(stations["经度"].astype(float), stations["纬度"].astype(float))
    for code, x, y in zip(stations["中队编号"], lon, lat, strict=True):
        assert jurisdictions.geometry[code].contains(shapely.Point(x, y)), code
    lon, lat = gcj02_to_wgs84(places["经度"].astype(float), places["纬度"].astype(float))
    assert shapely.contains_xy(region.outline, lon, lat).all()


def test_chief_roster_is_an_xlsx_naming_streets_of_the_network(demo_dir: Path) -> None:
    book = openpyxl.load_workbook(demo_dir / "raw/chiefs/street_chiefs.xlsx", read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == ["街路长编号", "姓名", "联系电话", "所属中队", "职务", "负责街路"]
    streets = set(gpd.read_file(demo_dir / "raw/streets/streets.geojson")["name"])
    squads = {r[3] for r in rows[1:]}
    assert len(squads) == 13  # every squad has at least one chief
    for row in rows[1:]:
        assert set(row[5].split("、")) <= streets
        assert len(str(row[2])) == 11


def test_sanitation_routes_kml_has_extended_data(demo_dir: Path, region: Region) -> None:
    tree = etree.parse(str(demo_dir / "raw/routes/sanitation_routes.kml"))
    marks = tree.findall(f".//{KML}Placemark")
    assert len(marks) >= 13
    for mark in marks:
        data = {d.get("name"): d.findtext(f"{KML}value") for d in mark.iter(f"{KML}Data")}
        assert set(data) == {"路线编号", "车辆", "班组", "作业时间", "所属中队"}
        assert data["车辆"].startswith("浙G") and data["所属中队"].endswith("中队")
        coords = np.array([c.split(",")[:2] for c in mark.findtext(f".//{KML}coordinates").split()], dtype=float)
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        assert shapely.contains_xy(region.outline.buffer(0.002), lon, lat).all()


def test_patrol_gpx_one_file_per_chief_per_day_with_10_to_30_s_fixes(demo_dir: Path, region: Region) -> None:
    files = sorted((demo_dir / "raw/gps/patrol").glob("*/*.gpx"))
    assert files
    roster = pd.read_excel(demo_dir / "raw/chiefs/street_chiefs.xlsx", engine="openpyxl", dtype=str)
    assert {f.parent.name for f in files} <= set(roster["街路长编号"])
    intervals = []
    for path in files[:20]:
        gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
        assert gpx.tracks[0].name == path.parent.name
        points = [p for s in gpx.tracks[0].segments for p in s.points]
        times = np.array([p.time.timestamp() for p in points])
        assert all(p.time.utcoffset().total_seconds() == 0 for p in points[:5])
        assert points[0].time.astimezone(region.tz).date().isoformat() == path.stem  # named by the local day
        intervals.append(np.median(np.diff(times)))
        lon = np.array([p.longitude for p in points])
        lat = np.array([p.latitude for p in points])
        assert shapely.contains_xy(region.outline.buffer(0.01), lon, lat).mean() > 0.99
    assert min(intervals) >= 9 and max(intervals) <= 31
    raw = files[0].read_text(encoding="utf-8")
    assert "<time>" in raw and "Z</time>" in raw


def test_sanitation_gps_is_a_gbk_csv_by_month(demo_dir: Path) -> None:
    files = sorted((demo_dir / "raw/gps/sanitation").glob("*.csv"))
    assert files and all(f.stem[:4].isdigit() and len(f.stem) == 7 for f in files)
    frame = pd.read_csv(files[-1], encoding="gbk", dtype=str)
    assert list(frame.columns) == ["车牌号", "定位时间", "经度", "纬度", "速度(km/h)", "方向"]
    assert frame["定位时间"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert frame["定位时间"].str.startswith(files[-1].stem).all()
    assert frame["车牌号"].str.startswith("浙G").all()
    with open(files[-1], "rb") as handle:
        head = handle.read(4000)
    assert "车牌号".encode("gbk") in head


def test_case_exports_in_gbk_utf8_bom_and_xlsx_with_the_contract_headers(demo_dir: Path) -> None:
    folder = demo_dir / "raw/cases"
    gbk = next(folder.glob("*_gbk.csv"))
    utf8 = next(folder.glob("*_utf8.csv"))
    xlsx = next(folder.glob("*.xlsx"))
    gbk_bytes = gbk.read_bytes()
    try:
        gbk_bytes.decode("utf-8")
        decodes_as_utf8 = True
    except UnicodeDecodeError:
        decodes_as_utf8 = False
    assert not decodes_as_utf8
    assert gbk_bytes.decode("gbk").split("\r\n")[0].split(",") == CASE_COLUMNS
    assert utf8.read_bytes().startswith(b"\xef\xbb\xbf")
    frames = [
        pd.read_csv(gbk, encoding="gbk", dtype=str, keep_default_na=False),
        pd.read_csv(utf8, encoding="utf-8-sig", dtype=str, keep_default_na=False),
        pd.read_excel(xlsx, engine="openpyxl", dtype=str).fillna(""),
    ]
    for frame in frames:
        assert list(frame.columns) == CASE_COLUMNS
        assert frame["上报时间"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    meta = json.loads((demo_dir / "truth/generation.json").read_text(encoding="utf-8"))
    assert sum(len(f) for f in frames) == meta["counts"]["cases"]
    # the exports follow each other in time (overlapping only by planted duplicates)
    starts = sorted((f["上报时间"].min(), f["上报时间"].max()) for f in frames)
    assert starts[0][0] < starts[1][0] < starts[2][0]
    assert io.BytesIO(xlsx.read_bytes()).read(2) == b"PK"
