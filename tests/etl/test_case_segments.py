"""The segment each case counts on: stored by the case job within the configured distance, recomputed by streets."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString
from sqlalchemy import Engine, text

from etl.jobs import cases, streets
from geo.case_segments import nearest_segments
from geo.region import Region, get_region, read_region
from geo.settings import get_settings
from tests.etl.test_cases import case, write_csv

ON_S4 = (119.805, 28.880)  # on 熟溪路 (S4), 480 m from 壶山下街 (S3)


def north_of(point: tuple[float, float], metres: float, region: Region) -> tuple[float, float]:
    """The point ``metres`` north of ``point`` in the region's metric CRS (WGS-84 in and out)."""
    forward = Transformer.from_crs("EPSG:4326", region.metric_crs, always_xy=True)
    back = Transformer.from_crs(region.metric_crs, "EPSG:4326", always_xy=True)
    x, y = forward.transform(*point)
    lon, lat = back.transform(x, y + metres)
    return float(lon), float(lat)


def _load_cases(engine: Engine, tmp_path: Path, region: Region, force: bool = False):
    table = [
        case(f"D{metres:03d}", "不详", lon=f"{p[0]:.8f}", lat=f"{p[1]:.8f}")
        for metres in (0, 49, 51)
        for p in [north_of(ON_S4, metres, region)]
    ]
    table.append(case("D999", "不详"))  # no point: counts on no segment
    (tmp_path / "source.toml").write_text('crs = "wgs84"\n', encoding="utf-8")
    return cases.load(engine, write_csv(tmp_path / "cases.csv", table, "utf-8"), force=force)


def _stored(engine: Engine) -> dict[str, tuple[str | None, float | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.case_number, s.segment_key, c.near_segment_m FROM cases c "
                "LEFT JOIN street_segments s ON s.id = c.near_segment_id"
            )
        ).all()
    return {r.case_number: (r.segment_key, r.near_segment_m) for r in rows}


@pytest.fixture
def region_with_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Configure a copy of the region whose ``[analysis] case_segment_max_m`` is the given value."""
    original = get_region().path.parent

    def make(limit_m: float) -> Region:
        folder = tmp_path / f"region-{limit_m:g}"
        shutil.copytree(original, folder)
        config = folder / "region.toml"
        body = config.read_text(encoding="utf-8")
        assert "case_segment_max_m = 50" in body
        config.write_text(body.replace("case_segment_max_m = 50", f"case_segment_max_m = {limit_m:g}"), "utf-8")
        monkeypatch.setenv("EGIS_REGION", str(config))
        get_settings.cache_clear()
        return get_region()

    yield make
    monkeypatch.delenv("EGIS_REGION", raising=False)
    get_settings.cache_clear()


def test_a_case_49_m_from_a_segment_counts_on_it_51_m_does_not(world_engine: Engine, tmp_path: Path) -> None:
    region = get_region()
    assert region.analysis.case_segment_max_m == 50
    report = _load_cases(world_engine, tmp_path, region)
    assert report.stats["case_segments"] == {"cases": 3, "on_segment": 2, "changed": 2}
    stored = _stored(world_engine)
    assert stored["D000"] == ("S4", 0.0)
    assert stored["D049"][0] == "S4" and stored["D049"][1] == pytest.approx(49, abs=0.2)
    assert stored["D051"] == (None, None)
    assert stored["D999"] == (None, None)
    again = _load_cases(world_engine, tmp_path, region, force=True)  # the same file again changes nothing
    assert again.stats["case_segments"]["changed"] == 0 and _stored(world_engine) == stored


def test_the_limit_comes_from_the_region_config(world_engine: Engine, tmp_path: Path, region_with_limit) -> None:
    region = region_with_limit(40)
    assert region.analysis.case_segment_max_m == 40
    _load_cases(world_engine, tmp_path, region)
    stored = _stored(world_engine)
    assert stored["D000"][0] == "S4" and stored["D049"] == (None, None)
    wide = region_with_limit(60)
    _load_cases(world_engine, tmp_path, wide, force=True)
    assert _stored(world_engine)["D051"][0] == "S4"


def test_a_bad_limit_in_the_config_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(get_region().path.parent, folder)
    config = folder / "region.toml"
    config.write_text(config.read_text("utf-8").replace("case_segment_max_m = 50", "case_segment_max_m = -5"), "utf-8")
    with pytest.raises(Exception, match=r"\[analysis\] case_segment_max_m"):
        read_region(config)


def test_reloading_the_streets_recomputes_the_segment_of_every_case(world_engine: Engine, tmp_path: Path) -> None:
    region = get_region()
    _load_cases(world_engine, tmp_path, region)
    near_51 = north_of(ON_S4, 51, region)
    lane = north_of(near_51, 5, region)  # a new lane 5 m north of the 51 m case, parallel to 熟溪路
    new = gpd.GeoDataFrame(
        {"segment_id": ["S9"], "name": ["新巷"], "road_class": ["巷"], "township": ["330723003"]},
        geometry=[LineString([(lane[0] - 0.001, lane[1]), (lane[0] + 0.001, lane[1])])],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(new, tmp_path / "streets.geojson")
    report = streets.load(world_engine, tmp_path / "streets.geojson")
    assert report.status == "succeeded" and report.stats["case_segments"]["changed"] == 2
    stored = _stored(world_engine)
    assert stored["D051"][0] == "S9" and stored["D051"][1] == pytest.approx(5, abs=0.3)
    assert stored["D049"][0] == "S9"  # 49 m from 熟溪路 but 7 m from the lane: the lane is nearer
    assert stored["D000"][0] == "S4"


def test_nearest_segments_takes_the_lowest_id_among_equally_near_segments() -> None:
    region = get_region()
    crossing = [LineString([(119.80, 28.88), (119.81, 28.88)]), LineString([(119.805, 28.87), (119.805, 28.89)])]
    ids, distances = nearest_segments(
        np.array([shapely.Point(119.805, 28.88), shapely.Point(119.9, 28.9)], dtype=object),
        np.array([7, 3]),
        np.array(crossing, dtype=object),
        50.0,
        region.metric_crs,
    )
    assert ids.tolist() == [3, -1] and distances[0] == pytest.approx(0, abs=0.01) and np.isnan(distances[1])
