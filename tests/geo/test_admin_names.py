"""Short forms of administrative names."""

from __future__ import annotations

from dataclasses import replace

import pytest

from geo.admin_names import admin_aliases, admin_kind, county_aliases, display_name
from geo.geocode.normalize import RegionNames, strip_region
from geo.region import Region


@pytest.mark.parametrize(
    "name,level,aliases",
    [
        ("武义县", "county", ["武义县", "武义"]),
        ("白洋街道", "township", ["白洋街道", "白洋"]),
        ("柳城畲族镇", "township", ["柳城畲族镇", "柳城镇", "柳城"]),
        ("大溪口乡", "township", ["大溪口乡", "大溪口"]),
        ("下王宅社区居委会", "village", ["下王宅社区", "下王宅社区居委会", "下王宅"]),
        ("上坦村委会", "village", ["上坦村", "上坦村委会", "上坦"]),
    ],
)
def test_aliases(name: str, level: str, aliases: list[str]) -> None:
    assert admin_aliases(name, level) == aliases


def test_display_and_kind() -> None:
    assert display_name("鸣阳社区居委会", "village") == "鸣阳社区"
    assert admin_kind("柳城畲族镇", "township") == "镇"
    assert admin_kind("上坦村委会", "village") == "村"


@pytest.mark.parametrize(
    "name,level,aliases",
    [
        ("永康市", "county", ["永康市", "永康"]),  # a county-level city is written without 市
        ("婺城区", "county", ["婺城区", "婺城"]),  # a district without 区
        ("景宁畲族自治县", "county", ["景宁畲族自治县", "景宁自治县", "景宁"]),
        ("金华市", "city", ["金华市", "金华"]),
        ("开发区", "township", ["开发区"]),  # 区 is a county-level suffix only
    ],
)
def test_county_level_cities_and_districts_lose_their_suffix(name: str, level: str, aliases: list[str]) -> None:
    assert admin_aliases(name, level) == aliases


def test_county_aliases_add_the_configured_short_name() -> None:
    assert county_aliases("武义县", "武义") == ["武义县", "武义"]
    assert county_aliases("神农架林区", "神农架") == ["神农架林区", "神农架林", "神农架"]


@pytest.mark.parametrize(
    "name,short,address,rest",
    [
        ("永康市", "永康", "永康古山镇胡库村", "古山镇胡库村"),
        ("永康市", "永康", "金华永康石柱镇下里溪村", "石柱镇下里溪村"),
        ("婺城区", "婺城", "金华婺城白龙桥镇临江村", "白龙桥镇临江村"),
        ("神农架林区", "神农架", "神农架松柏镇", "松柏镇"),  # only the configured short name says so
    ],
)
def test_addresses_naming_the_county_without_its_suffix_stay_in_the_county(
    region: Region, name: str, short: str, address: str, rest: str
) -> None:
    city = replace(region, name=name, short_name=short, neighbours=())
    local = frozenset({"古山镇", "石柱镇", "白龙桥镇", "松柏镇"})
    stripped = strip_region(address, RegionNames.from_region(city), local)
    assert (stripped.text, stripped.outside, stripped.named_county) == (rest, None, True)
