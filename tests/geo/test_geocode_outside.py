"""Addresses outside the county are refused, whatever local name they share; villages stay in their township."""

from __future__ import annotations

import csv
import dataclasses

import pytest
from shapely.geometry import Point

from geo.geocode import GazetteerIndex, Geocoder
from geo.geocode.gazetteer import Entry
from geo.geocode.normalize import RegionNames, strip_region
from geo.region import Region

ZHOUSHAN = "330723900"  # a made-up township 舟山镇 of a made-up county, for the short-form clash


def _geocoder(region: Region, townships: dict[str, str], villages: list[tuple[str, str, str]]) -> Geocoder:
    """A tiny gazetteer: townships (code → name) and villages (code, township code, name), each with a seat."""
    entries = [Entry("county", region.name, region.name, region.code, geom=region.outline)]
    for i, (code, name) in enumerate(townships.items()):
        entries += [
            Entry("township", form, name, code, code, geom=Point(119.7 + i * 0.05, 28.8))
            for form in (name, name.removesuffix("镇").removesuffix("街道"))
        ]
    for i, (code, town, name) in enumerate(villages):
        forms = dict.fromkeys([name, name.removesuffix("社区").removesuffix("村")])
        entries += [
            Entry("village", form, name, code, town, code, geom=Point(119.7 + i * 0.01, 28.85)) for form in forms
        ]
    return Geocoder(GazetteerIndex.from_entries(entries, region), cache_size=0)


def test_the_outside_places_table_names_zhejiang_and_its_neighbours(region: Region) -> None:
    assert region.outside_places_file is not None
    with region.outside_places_file.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    cities = {r["name"] for r in rows if r["level"] == "city" and r["parent"] == "33"}
    counties = {r["name"]: r["short"] for r in rows if r["level"] == "county" and r["code"].startswith("33")}
    assert len(cities) == 11 and {"杭州市", "舟山市", "丽水市"} <= cities
    assert counties["东阳市"] == "东阳" and counties["景宁畲族自治县"] == "景宁" and counties["婺城区"] == ""
    for province in ("31", "32", "34", "35", "36"):  # 上海, 江苏, 安徽, 福建, 江西: down to counties
        assert any(r["level"] == "county" and r["code"].startswith(province) for r in rows), province
    # The county itself, its city and its province are never outside.
    names = RegionNames.from_region(region)
    for own in ("武义县", "武义", "金华市", "金华", "浙江省", "浙江"):
        assert own not in names.outside.full and own not in names.outside.short


@pytest.mark.parametrize(
    ("address", "place"),
    [
        ("东阳南马镇西溪村", "东阳市"),  # 西溪村 is also a village of 壶山街道
        ("永康西城街道金园村", "永康市"),  # 金园村 is also a village of 泉溪镇
        ("东阳市南马镇", "东阳市"),
        ("义乌国际商贸城", "义乌市"),
        ("金华婺城区八一北街", "婺城区"),
        ("浙江杭州西湖区文三路", "杭州市"),
        ("安徽黄山屯溪区", "安徽省"),
        ("上海浦东新区世纪大道", "上海市"),
        ("景宁城北路", "景宁畲族自治县"),
        ("大田县城关镇", "大田县"),  # Fujian's 大田县, not this county's 大田乡
        ("南马镇西溪村", "南马镇"),  # a township this county does not have, named with its suffix
        ("西城街道金园村", "西城街道"),
        ("南马镇", "南马镇"),
    ],
)
def test_an_address_naming_a_place_outside_is_unmatched_with_that_place(
    region: Region, address: str, place: str
) -> None:
    geocoder = _geocoder(
        region,
        {"330723002": "壶山街道", "330723103": "泉溪镇", "330723200": "大田乡"},
        [("330723002236", "330723002", "西溪村"), ("330723103249", "330723103", "金园村")],
    )
    result = geocoder.geocode(address)
    assert result.level == "未匹配" and result.point is None and result.township_code is None, result
    assert result.reason.startswith("地址不在武义县") and place in result.reason


def test_the_county_own_names_still_match(region: Region) -> None:
    geocoder = _geocoder(
        region,
        {"330723002": "壶山街道", "330723103": "泉溪镇", "330723200": "大田乡"},
        [("330723002236", "330723002", "西溪村"), ("330723103249", "330723103", "金园村")],
    )
    for address, village in (("泉溪镇金园村", "金园村"), ("西溪村", "西溪村"), ("武义县壶山街道西溪村", "西溪村")):
        result = geocoder.geocode(address)
        assert result.level == "村社区" and result.village == village, address
    # 壶山镇 for 壶山街道: the name is this county's, only the suffix is wrong.
    wrong_suffix = geocoder.geocode("壶山镇西溪村")
    assert wrong_suffix.level == "村社区" and wrong_suffix.township == "壶山街道"
    assert geocoder.geocode("大田乡").level == "乡镇"
    # A village named under another township of the county is not taken from elsewhere.
    elsewhere = geocoder.geocode("泉溪镇西溪村")
    assert elsewhere.village is None and "不在所写乡镇内" in elsewhere.reason


def test_a_city_named_like_a_township_is_outside_only_with_its_suffix(region: Region) -> None:
    # A county with a 舟山镇 (short form 舟山): 舟山市定海区 is the city, 舟山 alone is the township.
    geocoder = _geocoder(region, {ZHOUSHAN: "舟山镇"}, [("330723900201", ZHOUSHAN, "东沙村")])
    city = geocoder.geocode("舟山市定海区解放路")
    assert city.level == "未匹配" and "舟山市" in city.reason
    for address in ("舟山东沙村", "舟山镇东沙村"):
        result = geocoder.geocode(address)
        assert result.level == "村社区" and result.township_code == ZHOUSHAN, address


def test_a_short_form_followed_by_a_road_word_is_a_local_name(region: Region) -> None:
    names = RegionNames.from_region(region)
    assert strip_region("永康街12号", names).outside is None  # a street named after the city
    assert strip_region("永安路3号", names).outside is None  # 永安市 is in Fujian; 永安路 is a road
    assert strip_region("永康五金城", names).outside == "永康市"
    # Without the table only suffixed names are recognised (the old behaviour): the data is what
    # makes 东阳 an outside place.
    bare = dataclasses.replace(region, outside_places_file=None, neighbours=())
    assert strip_region("东阳南马镇西溪村", RegionNames.from_region(bare)).outside is None
    assert strip_region("东阳南马镇西溪村", names).outside == "东阳市"


def test_two_villages_of_one_township_sharing_a_short_form(region: Region) -> None:
    geocoder = _geocoder(
        region,
        {"330723105": "王宅镇", "330723003": "熟溪街道"},
        [
            ("330723105201", "330723105", "王宅村"),
            ("330723105001", "330723105", "王宅社区"),
            ("330723105202", "330723105", "后山村"),
            ("330723105002", "330723105", "后山村社区"),  # its short form 后山村 is the other's exact name
            ("330723003001", "330723003", "江山社区"),
            ("330723105203", "330723105", "江山村"),
        ],
    )
    exact = geocoder.geocode("王宅镇后山村")
    assert exact.level == "村社区" and exact.village == "后山村"
    assert geocoder.geocode("后山村").village == "后山村"
    same_town = geocoder.geocode("王宅镇王宅")
    assert same_town.township == "王宅镇" and "重名" not in (same_town.reason or "")
    bare = geocoder.geocode("后山")
    assert bare.level == "乡镇" and bare.township == "王宅镇"
    assert "在王宅镇有多个村社区" in bare.reason and "多个乡镇" not in bare.reason
    # Two different townships: still not guessed.
    ambiguous = geocoder.geocode("江山")
    assert ambiguous.level == "未匹配" and "在多个乡镇重名" in ambiguous.reason
