"""The demo's known truth: planted dirty rows really are in the files, the truth agrees with the geography."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from etl.demo.addresses import UNMATCHABLE
from geo.crs import gcj02_to_wgs84
from geo.region import Region

DIRTY_KINDS = {
    "unmatched_address",
    "missing_stage_time",
    "out_of_order_times",
    "duplicate_case_number",
    "outside_county",
    "swapped_lonlat",
    "wgs84_as_gcj02",
}


def _exports(demo_dir: Path) -> dict[str, pd.DataFrame]:
    frames = {}
    for path in sorted((demo_dir / "raw/cases").iterdir()):
        if path.suffix == ".xlsx":
            frames[path.name] = pd.read_excel(path, engine="openpyxl", dtype=str).fillna("")
        else:
            encoding = "gbk" if path.stem.endswith("_gbk") else "utf-8-sig"
            frames[path.name] = pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False)
    return frames


def test_every_planted_dirty_row_shows_its_fault_in_the_file(demo_dir: Path, region: Region) -> None:
    dirty = pd.read_csv(demo_dir / "truth/dirty_rows.csv", dtype=str)
    truth = pd.read_csv(demo_dir / "truth/cases.csv", dtype={"row": int, "file": str})
    exports = _exports(demo_dir)
    assert set(dirty["kind"]) == DIRTY_KINDS
    total = sum(len(f) for f in exports.values())
    assert 0.02 < dirty[["file", "file_row"]].drop_duplicates().shape[0] / total < 0.09  # "a few percent"
    outline = region.outline
    all_numbers = pd.concat([f["案件编号"] for f in exports.values()])
    for item in dirty.itertuples():
        row = exports[item.file].iloc[int(item.file_row) - 1]
        assert row["案件编号"] == item.case_number
        fact = truth[(truth["file"] == item.file) & (truth["row"] == int(item.file_row))].iloc[0]
        if item.kind == "unmatched_address":
            assert row["地址"] in UNMATCHABLE and row["经度"] == ""
        elif item.kind == "missing_stage_time":
            assert row["办结时间"] != "" and "" in (row["派遣时间"], row["到场时间"])
        elif item.kind == "out_of_order_times":
            assert row["到场时间"] < row["派遣时间"] or row["办结时间"] < row["上报时间"]
        elif item.kind == "duplicate_case_number":
            assert (all_numbers == item.case_number).sum() == 2
        elif item.kind == "outside_county":
            x, y = gcj02_to_wgs84(float(row["经度"]), float(row["纬度"]))
            assert not outline.buffer(0.01).contains(shapely.Point(float(x), float(y)))
        elif item.kind == "swapped_lonlat":
            assert 20 < float(row["经度"]) < 40 and 100 < float(row["纬度"]) < 130
        elif item.kind == "wgs84_as_gcj02":
            assert abs(float(row["经度"]) - fact["true_lon"]) < 2e-6
            assert abs(float(row["纬度"]) - fact["true_lat"]) < 2e-6


def test_clean_coordinates_are_gcj02_of_the_true_point(demo_dir: Path) -> None:
    truth = pd.read_csv(demo_dir / "truth/cases.csv", dtype={"file": str})
    exports = _exports(demo_dir)
    clean = truth[(truth["coords_written"] == "gcj02") & truth["dirty"].isna()]
    assert len(clean) > 100
    for file, group in clean.groupby("file"):
        rows = exports[file].iloc[group["row"].to_numpy() - 1]
        lon, lat = gcj02_to_wgs84(rows["经度"].astype(float), rows["纬度"].astype(float))
        # true point + phone GPS noise of a few metres: well under 100 m, far from the ~500 m offset
        error_m = np.hypot((lon - group["true_lon"]) * 97_000, (lat - group["true_lat"]) * 111_000)
        assert np.percentile(error_m, 99) < 60


def test_truth_townships_and_squads_agree_with_the_approximate_polygons(demo_dir: Path) -> None:
    towns = gpd.read_file(demo_dir / "truth/townships_approximate.geojson")
    assert len(towns) == 18 and towns["approximate"].all()
    truth = pd.read_csv(demo_dir / "truth/cases.csv", dtype={"township_code": str})
    points = gpd.GeoDataFrame(truth, geometry=gpd.points_from_xy(truth["true_lon"], truth["true_lat"]), crs=4326)
    joined = gpd.sjoin(points, towns[["code", "squad", "geometry"]], predicate="within")
    assert len(joined) == len(truth)
    assert (joined["code"] == joined["township_code"]).all()
    assert (joined["squad"] == joined["squad_code"]).all()
    handed_over = truth["reported_squad_code"] != truth["squad_code"]
    assert 0.003 < handed_over.mean() < 0.04
    squads = pd.read_csv(demo_dir / "truth/squads.csv")
    assert len(squads) == 13 and squads["squad_name"].str.endswith("中队").all()


def test_truth_records_generation_parameters_and_chief_segments(demo_dir: Path) -> None:
    meta = json.loads((demo_dir / "truth/generation.json").read_text(encoding="utf-8"))
    assert (meta["seed"], meta["years"], meta["scale"], meta["end"]) == (7, 1, 0.05, "2026-11-27")
    assert meta["street_network"] == "synthetic"
    chief_segments = pd.read_csv(demo_dir / "truth/chief_segments.csv")
    streets = gpd.read_file(demo_dir / "raw/streets/streets.geojson")
    assert set(chief_segments["segment_id"]) <= set(streets["segment_id"])
    assert chief_segments["neglected"].any() and not chief_segments["neglected"].all()
    patrol = pd.read_csv(demo_dir / "truth/patrol_days.csv")
    files = list((demo_dir / "raw/gps/patrol").glob("*/*.gpx"))
    assert len(patrol) == len(files)
    assert patrol["jumps"].sum() > 0 and patrol["gaps"].sum() > 0 and patrol["stops"].sum() > 0
