"""Matching addresses against a small gazetteer built from real PostGIS rows: every level, and refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from geo.db import get_engine
from geo.geocode import Geocoder, load_geocoder, refresh_gazetteer
from geo.geocode.match import distance_m
from geo.region import Region

SHUXI, BAIYANG, TONGQIN = "330723003", "330723001", "330723102"


@pytest.fixture(scope="module")
def world(sample_world_url: URL) -> Engine:
    return get_engine(sample_world_url)


@pytest.fixture(scope="module")
def geocoder(world: Engine, region: Region) -> Geocoder:
    with world.begin() as conn:
        return load_geocoder(conn, region)


def near(result, lon: float, lat: float, metres: float) -> bool:
    return result.point is not None and distance_m(result.point, (lon, lat)) <= metres


def test_door_number_is_interpolated_on_the_right_side(geocoder: Geocoder) -> None:
    # 解放街 S1 runs west→east along lat 28.890 from 119.800 to 119.810; left (north) 1–49, right 2–50.
    odd = geocoder.geocode("武义县熟溪街道解放街25号")
    even = geocoder.geocode("熟溪街道解放街26号")
    assert odd.level == even.level == "门牌"
    assert odd.township_code == SHUXI and odd.township == "熟溪街道" and odd.score == 1.0
    middle_lon = 119.800 + 0.010 * (25 - 1) / 48
    assert near(odd, middle_lon, 28.890, 10) and near(even, 119.800 + 0.010 * 24 / 48, 28.890, 10)
    assert odd.lat > 28.890 > even.lat  # odd numbers on the north (left) side, even on the south
    second = geocoder.geocode("熟溪街道解放街75号")
    assert second.level == "门牌" and near(second, 119.815, 28.890, 10)


def test_a_place_address_is_an_address_point(geocoder: Geocoder) -> None:
    # 熟溪农贸市场 gives its address as 解放街21号: that door is the market's own point.
    result = geocoder.geocode("武义县解放街21号")
    assert result.level == "门牌" and result.point == (119.8052, 28.8903) and "熟溪农贸市场" in result.matched
    assert geocoder.geocode("熟溪农贸市场路口").level == "小区或地点"
    assert geocoder.geocode("武义县武义县第一人民医院路口").level == "小区或地点"


def test_the_township_is_the_one_the_point_lies_in(geocoder: Geocoder) -> None:
    # The sample squads each cover one township, so their jurisdictions are township polygons:
    # 熟溪中队 west of 119.812, 白洋中队 east of it. 解放街75号 (119.815) lies in the latter.
    result = geocoder.geocode("熟溪街道解放街75号")
    assert result.level == "门牌" and result.township_code == BAIYANG
    assert geocoder.geocode("熟溪街道解放街25号").township_code == SHUXI


def test_door_forms_lane_building_and_chinese_numerals(geocoder: Geocoder) -> None:
    lane = geocoder.geocode("熟溪街道解放街25弄3号")
    room = geocoder.geocode("熟溪街道解放街二十五号3幢2单元301室")
    assert lane.level == room.level == "门牌"
    assert distance_m(lane.point, room.point) < 1


def test_admin_area_constrains_same_named_roads(geocoder: Geocoder) -> None:
    tongqin = geocoder.geocode("桐琴镇解放街10号")
    assert tongqin.level == "门牌" and tongqin.township_code == TONGQIN and near(tongqin, 119.861, 28.960, 30)
    # 武阳路 is in 白洋街道 only: written under 熟溪街道 it is not matched there.
    wrong = geocoder.geocode("熟溪街道武阳路5号")
    assert wrong.level == "乡镇" and wrong.township_code == SHUXI


def test_door_outside_every_range_falls_back_to_the_road(geocoder: Geocoder) -> None:
    result = geocoder.geocode("白洋街道武阳路999号")
    assert result.level == "道路" and "无999号门牌" in result.reason
    assert near(result, 119.8225, 28.905, 20)


def test_intersection(geocoder: Geocoder) -> None:
    for address in ("熟溪街道解放街与壶山下街交叉口", "解放街壶山下街路口", "壶山下街和解放街交叉口附近"):
        result = geocoder.geocode(address)
        assert result.level == "交叉口", address
        assert near(result, 119.810, 28.890, 1)
        assert result.township_code == SHUXI
    # 熟溪路 meets 壶山下街 at the latter's end point.
    assert near(geocoder.geocode("熟溪路与壶山下街交叉口"), 119.810, 28.880, 1)


def test_roads_that_do_not_meet_fall_back_to_the_first_road(geocoder: Geocoder) -> None:
    result = geocoder.geocode("熟溪街道解放街与熟溪路交叉口")
    assert result.level == "道路" and "不相交" in result.reason and result.matched[-1] == "解放街"


def test_road_without_number_is_its_midpoint_in_the_township(geocoder: Geocoder) -> None:
    result = geocoder.geocode("熟溪街道解放街")
    assert result.level == "道路" and near(result, 119.810, 28.890, 1)
    alias = geocoder.geocode("熟溪街道老熟溪路")
    assert alias.level == "道路" and alias.score == 0.95 and alias.matched[-1] == "熟溪路"
    crossing = geocoder.geocode("熟溪街道解放街路口")
    assert crossing.level == "道路"


def test_road_section_near_a_village_is_its_nearest_point_on_the_road(geocoder: Geocoder) -> None:
    # 栖霞社区's seat is about (119.8013, 28.8845): the nearest point of 熟溪路 (lat 28.880) is below it.
    for address in ("熟溪路栖霞社区路段", "栖霞社区熟溪路边"):
        result = geocoder.geocode(address)
        assert result.level == "道路" and result.village == "栖霞社区", address
        assert abs(result.lat - 28.880) < 1e-6 and abs(result.lon - 119.8013) < 1e-3
    assert geocoder.geocode("解放街熟溪段").township_code == SHUXI


def test_differently_qualified_roads_are_not_typos(geocoder: Geocoder) -> None:
    assert geocoder.geocode("解放西街12号").level == "未匹配"
    assert geocoder.geocode("和平西路与朝阳东路交叉口").level == "未匹配"


def test_road_typo_is_matched_fuzzily_within_the_township(geocoder: Geocoder) -> None:
    for typo in ("熟溪街道壶山夏街12号", "熟溪街道壶山下衔12号"):  # 夏 for 下, 衔 for 街
        result = geocoder.geocode(typo)
        assert result.level == "门牌" and 0.5 < result.score < 0.95 and result.matched[-1] == "壶山下街12号"


def test_compounds_and_landmarks(geocoder: Geocoder) -> None:
    for address in (
        "熟溪街道阳光小区3幢2单元301室",
        "阳光花园",
        "阳光小区门口",
        "阳光小区对面",
        "阳光小区附近",
        "阳光小区旁",
    ):
        result = geocoder.geocode(address)
        assert result.level == "小区或地点" and near(result, 119.805, 28.895, 1), address
        assert result.township_code == SHUXI
    hospital = geocoder.geocode("武义县第一人民医院门口")
    assert hospital.level == "小区或地点" and near(hospital, 119.812, 28.893, 1)
    school = geocoder.geocode("泉溪镇中心小学对面")
    assert school.level == "小区或地点" and school.township_code == "330723103"


def test_same_named_places_follow_the_township(geocoder: Geocoder) -> None:
    assert near(geocoder.geocode("桐琴镇农贸市场"), 119.865, 28.962, 1)
    assert near(geocoder.geocode("熟溪街道农贸市场旁"), 119.815, 28.885, 1)


def test_place_typo_is_matched_fuzzily(geocoder: Geocoder) -> None:
    result = geocoder.geocode("熟溪街道阳光小去3幢")  # 去 for 区
    assert result.level == "小区或地点" and result.score < 1 and result.matched[-1] == "阳光小区"
    assert geocoder.geocode("阳光小去").level == "未匹配"  # without the township a weak match is not taken


def test_village_and_township_levels(geocoder: Geocoder) -> None:
    village = geocoder.geocode("熟溪街道江山社区")
    assert village.level == "村社区" and village.village == "江山社区" and village.township_code == SHUXI
    short = geocoder.geocode("武义县熟溪街道江山社区居委会")
    assert short.level == "村社区" and short.point == village.point
    # 江山 is a community in 熟溪街道 and a village in 泉溪镇: without the township it is not guessed.
    ambiguous = geocoder.geocode("江山")
    assert ambiguous.level == "未匹配" and "重名" in ambiguous.reason
    # A village without a real seat gets the approximate one the region loader placed in its
    # township, with a lower score and a note saying so.
    no_seat = geocoder.geocode("白洋街道下王宅社区")
    assert no_seat.level == "村社区" and no_seat.village == "下王宅社区" and no_seat.township_code == BAIYANG
    assert no_seat.score < 1 and "近似" in no_seat.reason
    township = geocoder.geocode("柳城畲族镇")
    assert township.level == "乡镇" and township.township == "柳城畲族镇"
    for short_form in ("柳城镇", "柳城"):
        assert geocoder.geocode(short_form).point == township.point
    assert geocoder.geocode("白洋街道").level == "乡镇"  # no seat: from its villages' seats


def test_township_typo_is_matched_fuzzily(geocoder: Geocoder) -> None:
    result = geocoder.geocode("百洋街道武阳路3号")
    assert result.level == "门牌" and result.township_code == BAIYANG and result.score < 1


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("", "地址为空"),
        (None, "地址为空"),
        ("不详", "地址无意义"),
        ("???", "地址无意义"),
        ("？？？", "地址无意义"),
        ("永康市西城街道解放街12号", "永康市"),
        ("浙江省金华市婺城区八一北街", "婺城区"),
        ("金华市解放街25号", "金华市"),
        ("缙云县壶镇", "缙云县"),
        ("杭州市西湖区文三路", "杭州市"),
        ("武义县", "只有县名"),
        ("火星基地", "未找到"),
    ],
)
def test_out_of_county_empty_and_garbage_are_unmatched_with_a_reason(
    geocoder: Geocoder, address: str | None, reason: str
) -> None:
    result = geocoder.geocode(address)
    assert result.level == "未匹配" and result.point is None and result.township_code is None
    assert reason in result.reason


def test_gazetteer_refresh_is_incremental(world_engine: Engine, region: Region) -> None:
    with world_engine.begin() as conn:
        first = refresh_gazetteer(conn)
        sources = first.added
        assert first.changed == first.removed == first.unchanged == 0
        assert sources == 1 + 18 + 279 + 6 + 6 + 1  # county, townships, villages, segments, places, addresses
        assert conn.execute(text("SELECT count(*) FROM gazetteer WHERE name = '柳城镇'")).scalar() == 1
        ids_before = set(conn.execute(text("SELECT id FROM gazetteer WHERE kind = 'street'")).scalars())
    with world_engine.begin() as conn:
        again = refresh_gazetteer(conn)
        assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, sources)
        conn.execute(text("UPDATE street_segments SET left_from = 101, left_to = 149 WHERE segment_key = 'S1'"))
        conn.execute(text("DELETE FROM places WHERE place_key = 'P4'"))
        conn.execute(
            text(
                "INSERT INTO places (place_key, name, kind, township_code, geom) VALUES "
                "('P9', '江滨公园', '公园', '330723003', ST_SetSRID(ST_MakePoint(119.803, 28.884), 4326))"
            )
        )
        changed = refresh_gazetteer(conn)
        assert (changed.added, changed.changed, changed.removed) == (1, 1, 1)
        ids_after = set(conn.execute(text("SELECT id FROM gazetteer WHERE kind = 'street'")).scalars())
        assert len(ids_before - ids_after) == 1  # only the changed segment's entry was rewritten
        geocoder = load_geocoder(conn, region, refresh=False)
    assert geocoder.geocode("熟溪街道解放街125号").level == "门牌"
    assert geocoder.geocode("熟溪街道江滨公园").level == "小区或地点"
    assert geocoder.geocode("泉溪镇中心小学").level == "乡镇"


def test_command_line_reads_lines_and_csv_columns(sample_world_url: URL, tmp_path) -> None:
    env = {**os.environ, "DATABASE_URL": sample_world_url.render_as_string(hide_password=False)}
    lines = "熟溪街道解放街25号\n永康市西城街道\n不详\n"
    out = subprocess.run(
        [sys.executable, "-m", "etl", "geocode"], input=lines, capture_output=True, text=True, env=env, check=True
    ).stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert [r["level"] for r in rows] == ["门牌", "未匹配", "未匹配"]
    assert set(rows[0]) >= {"input", "lon", "lat", "level", "score", "township", "village", "matched", "reason"}
    assert rows[0]["township"] == "熟溪街道" and rows[1]["reason"].startswith("地址不在武义县")
    table = tmp_path / "cases.csv"
    table.write_bytes("编号,地址\n1,阳光小区门口\n2,熟溪街道\n".encode("gbk"))
    out = subprocess.run(
        [sys.executable, "-m", "etl", "geocode", str(table), "--column", "地址", "--no-refresh"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.splitlines()
    assert [json.loads(line)["level"] for line in out] == ["小区或地点", "乡镇"]
    missing = subprocess.run(
        [sys.executable, "-m", "etl", "geocode", str(table), "--column", "address"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert missing.returncode != 0 and "no column 'address'" in missing.stderr
