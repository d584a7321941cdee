"""Jurisdictions: GBK shapefiles (with/without .cpg, zipped), versions, squad count, tiling, GCJ-02 warning."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import Engine, text

from etl.jobs import jurisdictions
from geo.crs import from_wgs84
from geo.errors import ValidationError
from geo.models import EtlRun
from geo.spatial import to_metric


def _shapefile(frame: gpd.GeoDataFrame, folder: Path, cpg: bool = True, crs: str = "EPSG:4490") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "squad_jurisdictions.shp"
    pyogrio.write_dataframe(frame.set_crs(crs, allow_override=True), path, encoding="GBK")
    if not cpg:
        (folder / "squad_jurisdictions.cpg").unlink()
    return path


def _current(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT version, squad_code, name, source_crs FROM jurisdictions WHERE is_current ORDER BY squad_code")
        ).all()


@pytest.mark.parametrize("cpg", [True, False])
def test_gbk_shapefile_in_a_zip_loads_thirteen_squads_with_chinese_names(
    schema_engine: Engine, squad_tiles, tmp_path: Path, zip_folder, cpg: bool
) -> None:
    path = _shapefile(squad_tiles, tmp_path / "shp", cpg=cpg)
    assert (path.with_suffix(".cpg").exists()) is cpg
    archive = zip_folder(path.parent, "squad_jurisdictions.zip")
    report = jurisdictions.load(schema_engine, archive)
    assert (report.status, report.read, report.loaded, report.rejected) == ("succeeded", 13, 13, 0)
    rows = _current(schema_engine)
    assert [r.name for r in rows] == list(squad_tiles["ZDMC"])
    assert {r.source_crs for r in rows} == {"EPSG:4490"} and {r.version for r in rows} == {1}
    with schema_engine.connect() as conn:
        squads = dict(conn.execute(text("SELECT code, name FROM squads")).all())
    assert squads["ZD02"] == "白洋中队" and len(squads) == 13
    assert not any("gap" in w or "overlap" in w for w in report.warnings)
    assert report.stats["tiling"]["gap"]["count"] == 0


def test_reload_replaces_the_version_and_identical_reload_changes_nothing(
    schema_engine: Engine, squad_tiles, tmp_path: Path, table_rows
) -> None:
    first = _shapefile(squad_tiles, tmp_path / "a")
    jurisdictions.load(schema_engine, first)
    before = table_rows(schema_engine, "SELECT id, version, squad_code, is_current, md5(geom::text) FROM jurisdictions")
    assert jurisdictions.load(schema_engine, first).status == "skipped"
    forced = jurisdictions.load(schema_engine, first, force=True)
    assert forced.stats["version"] == "unchanged"
    assert (
        table_rows(schema_engine, "SELECT id, version, squad_code, is_current, md5(geom::text) FROM jurisdictions")
        == before
    )

    changed = squad_tiles.copy()
    changed.loc[0, "ZDMC"] = "壶山城区中队"
    jurisdictions.load(schema_engine, _shapefile(changed, tmp_path / "b"))
    rows = _current(schema_engine)
    assert {r.version for r in rows} == {2} and rows[0].name == "壶山城区中队"
    with schema_engine.connect() as conn:
        old = conn.execute(text("SELECT count(*) FROM jurisdictions WHERE NOT is_current AND version = 1")).scalar()
    assert old == 13


def test_wrong_squad_count_is_an_error_naming_the_squads_and_keeps_the_database(
    schema_engine: Engine, squad_tiles, tmp_path: Path
) -> None:
    path = _shapefile(squad_tiles.iloc[:12], tmp_path / "twelve")
    with pytest.raises(ValidationError) as caught:
        jurisdictions.load(schema_engine, path)
    message = str(caught.value)
    assert "expects 13 squads" in message and "has 12" in message
    assert "ZD01 壶山中队" in message and "ZD12 新宅中队" in message
    with schema_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jurisdictions")).scalar() == 0
        assert conn.execute(text("SELECT status FROM etl_runs")).scalar() == "failed"


def test_gaps_and_overlaps_are_reported_with_area_and_location(
    schema_engine: Engine, squad_tiles, tmp_path: Path
) -> None:
    tiles = squad_tiles.copy()
    centre = tiles.geometry.iloc[5].representative_point()
    hole = box(centre.x - 0.005, centre.y - 0.005, centre.x + 0.005, centre.y + 0.005)  # ~ 1 km²
    tiles.loc[5, "geometry"] = tiles.geometry.iloc[5].difference(hole)
    neighbour = tiles.geometry.iloc[9]
    xmin, ymin, _, ymax = neighbour.bounds
    strip = neighbour.intersection(box(xmin, ymin, xmin + 0.003, ymax))  # ZD09 also claims a strip of ZD10
    tiles.loc[8, "geometry"] = tiles.geometry.iloc[8].union(strip)
    overlap_m2 = to_metric(strip, "EPSG:4549").area
    report = jurisdictions.load(schema_engine, _shapefile(tiles, tmp_path / "holes"))
    gaps = [w for w in report.warnings if w.startswith("jurisdiction gap")]
    overlaps = [w for w in report.warnings if w.startswith("jurisdiction overlap")]
    assert len(gaps) == 1 and f"{centre.x:.2f}" in gaps[0] and f"{centre.y:.2f}" in gaps[0]
    area = report.stats["tiling"]["gap"]["area_m2"]
    assert 0.9e6 < area < 1.2e6
    assert overlaps and all("between ZD09 and ZD10" in o for o in overlaps)  # the strip may be in pieces
    assert report.stats["tiling"]["overlap"]["area_m2"] == pytest.approx(overlap_m2, rel=0.01)


def test_invalid_polygons_are_repaired_and_bad_rows_rejected(
    schema_engine: Engine, squad_tiles, tmp_path: Path
) -> None:
    tiles = squad_tiles.copy()
    x0, y0, x1, y1 = tiles.geometry.iloc[0].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    assert not bowtie.is_valid
    extra = gpd.GeoDataFrame(
        {"ZDBM": ["ZD01", "", "ZD99"], "ZDMC": ["壶山中队", "无名", "远方中队"], "XZQMC": ["", "", ""]},
        geometry=[bowtie, box(x0, y0, x1, y1), box(121, 30, 121.1, 30.1)],
        crs="EPSG:4326",
    )
    path = _shapefile(gpd.GeoDataFrame(gpd.pd.concat([tiles, extra], ignore_index=True)), tmp_path / "bad")
    report = jurisdictions.load(schema_engine, path)
    assert (report.read, report.loaded, report.rejected) == (16, 14, 2)
    with schema_engine.connect() as conn:
        rejects = conn.execute(text("SELECT row_number, reason, raw FROM etl_rejects ORDER BY row_number")).all()
        assert conn.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM jurisdictions")).scalar()
    assert [r.row_number for r in rejects] == [15, 16]
    assert "not a known squad" in rejects[0].reason and rejects[0].raw["ZDMC"] == "无名"
    assert "outside 武义县" in rejects[1].reason and rejects[1].raw["ZDMC"] == "远方中队"


def test_gcj02_offset_warns_and_declared_gcj02_loads_without_warning(
    schema_engine: Engine, squad_tiles, tmp_path: Path
) -> None:
    def shift(coords):
        x, y = from_wgs84(coords[:, 0], coords[:, 1], "gcj02")
        return np.column_stack([x, y])

    offset = squad_tiles.copy()
    offset["geometry"] = shapely.transform(squad_tiles.geometry.values, shift)
    path = _shapefile(offset, tmp_path / "gcj", crs="EPSG:4326")
    warned = jurisdictions.load(schema_engine, path)
    assert any("GCJ-02" in w and "--crs gcj02" in w for w in warned.warnings)

    fixed = jurisdictions.load(schema_engine, path, crs="gcj02", force=True)
    assert not any("GCJ-02" in w for w in fixed.warnings)
    assert fixed.stats["tiling"]["gap"]["count"] == 0
    with schema_engine.connect() as conn:
        assert conn.execute(text("SELECT source_crs FROM jurisdictions WHERE is_current LIMIT 1")).scalar() == "gcj02"

    clean = _shapefile(squad_tiles, tmp_path / "wgs", crs="EPSG:4326")
    assert not any("GCJ-02" in w for w in jurisdictions.load(schema_engine, clean).warnings)
    wrongly_declared = jurisdictions.load(schema_engine, clean, crs="gcj02", force=True)
    assert any("declared GCJ-02 but look like WGS-84" in w for w in wrongly_declared.warnings)
    with schema_engine.connect() as conn:
        runs = conn.execute(text(f"SELECT count(*) FROM {EtlRun.__tablename__}")).scalar()
    assert runs == 4
