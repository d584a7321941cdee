"""Normalising and parsing address text: every form the case exports contain."""

from __future__ import annotations

import pytest

from geo.geocode.normalize import RegionNames, chinese_number, clean_text, is_meaningless, strip_region
from geo.geocode.parse import Lexicon, parse
from geo.region import Region


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    lex = Lexicon()
    lex.add("township", ["熟溪街道", "熟溪", "白洋街道", "白洋", "柳城畲族镇", "柳城镇", "柳城"])
    lex.add("village", ["江山社区", "江山", "白洋渡社区", "白洋渡", "东村"])
    lex.add("road", ["解放街", "壶山下街", "熟溪路", "武阳路"])
    lex.add("place", ["阳光小区", "农贸市场"])
    return lex


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("武义县　白洋街道 壶山下街１２号", "武义县白洋街道壶山下街12号"),
        ("解放街十二号", "解放街12号"),
        ("解放街一百零五号", "解放街105号"),
        ("阳光小区三幢二单元三〇二室", "阳光小区3幢2单元302室"),
        ("解放街（农贸市场旁）", "解放街农贸市场旁"),
        ("解放街12號", "解放街12号"),
        ("阳光小区5#楼", "阳光小区5幢"),
        ("解放街1O2号", "解放街102号"),
        ("解放街与熟溪路交叉路口付近", "解放街与熟溪路交叉口附近"),
    ],
)
def test_clean_text_fixes_width_spaces_numerals_and_typos(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_chinese_numbers() -> None:
    assert [chinese_number(t) for t in ("十", "十二", "二十", "二十三", "一百零五", "三〇二", "两")] == [
        10,
        12,
        20,
        23,
        105,
        302,
        2,
    ]


@pytest.mark.parametrize("text", ["", "不详", "？？？", "???", "123", "  ", "N/A", "无"])
def test_meaningless_addresses(text: str) -> None:
    assert is_meaningless(text)


def test_meaningful_addresses_are_not_garbage() -> None:
    assert not is_meaningless("解放街12号")


def test_region_prefixes_are_stripped_and_other_areas_detected(region: Region) -> None:
    names = RegionNames.from_region(region)
    local = frozenset({"白洋街道", "熟溪街道", "熟溪"})
    assert strip_region("浙江省金华市武义县白洋街道武阳路3号", names, local).text == "白洋街道武阳路3号"
    assert strip_region("金华市武义县熟溪街道", names, local).text == "熟溪街道"
    assert strip_region("金华武义熟溪街道解放街", names, local).text == "熟溪街道解放街"
    assert strip_region("武义大道88号", names, local).text == "武义大道88号"  # a road, not the county
    assert strip_region("武义解放街8号", names, local, frozenset({"解放街"})).text == "解放街8号"
    assert strip_region("永康市西城街道", names, local).outside == "永康市"
    assert strip_region("浙江省金华市婺城区八一北街", names, local).outside == "婺城区"
    assert strip_region("金华市八一北街", names, local).outside == "金华市"
    assert strip_region("杭州市西湖区文三路", names, local).outside == "杭州市"
    assert strip_region("江西省上饶市", names, local).outside == "江西省"
    assert strip_region("农贸市场门口", names, local).outside is None


def test_township_village_road_and_door(lexicon: Lexicon) -> None:
    parsed = parse("白洋街道白洋渡社区武阳路12号", lexicon)
    assert (parsed.township, parsed.village, parsed.road, parsed.door) == ("白洋街道", "白洋渡社区", "武阳路", 12)
    parsed = parse("熟溪街道解放街12-3号", lexicon)
    assert (parsed.township, parsed.road, parsed.door) == ("熟溪街道", "解放街", 12)


def test_lane_building_unit_room(lexicon: Lexicon) -> None:
    parsed = parse("解放街25弄3号", lexicon)
    assert (parsed.road, parsed.door) == ("解放街", 25)
    parsed = parse("阳光小区3幢2单元301室", lexicon)
    assert parsed.place == "阳光小区" and parsed.detail == "3幢2单元301室" and parsed.road is None
    parsed = parse("解放街12号3幢2单元301室", lexicon)
    assert (parsed.road, parsed.door, parsed.detail) == ("解放街", 12, "3幢2单元301室")


def test_unknown_road_found_by_its_suffix() -> None:
    parsed = parse("新华路18号")
    assert (parsed.road, parsed.door, parsed.road_known) == ("新华路", 18, False)


def test_compound_and_landmark_relations(lexicon: Lexicon) -> None:
    for relation in ("附近", "对面", "旁", "门口"):
        parsed = parse(f"熟溪街道农贸市场{relation}", lexicon)
        assert (parsed.township, parsed.place, parsed.relation) == ("熟溪街道", "农贸市场", relation)
    parsed = parse("解放街路口", lexicon)
    assert (parsed.road, parsed.relation, parsed.cross) == ("解放街", "路口", None)
    parsed = parse("熟溪路口", lexicon)
    assert (parsed.road, parsed.relation) == ("熟溪路", "路口")


@pytest.mark.parametrize(
    "text",
    [
        "解放街与壶山下街交叉口",
        "解放街和壶山下街交叉口附近",
        "解放街、壶山下街路口",
        "解放街壶山下街口",
        "解放街壶山下街路口",
    ],
)
def test_intersections(lexicon: Lexicon, text: str) -> None:
    assert parse(text, lexicon).cross == ("解放街", "壶山下街")


def test_village_with_group_number(lexicon: Lexicon) -> None:
    parsed = parse("白洋街道东村3组", lexicon)
    assert (parsed.township, parsed.village, parsed.road, parsed.place) == ("白洋街道", "东村", None, None)


def test_township_stem_wins_over_village_stem(lexicon: Lexicon) -> None:
    lexicon.add("village", ["熟溪"])
    assert parse("熟溪解放街5号", lexicon).township == "熟溪"


def test_road_sections_name_their_area(lexicon: Lexicon) -> None:
    lexicon.add("road", ["武柳线"])
    assert (parse("武柳线柳城段", lexicon).road, parse("武柳线柳城段", lexicon).area_hint) == ("武柳线", "柳城")
    parsed = parse("武柳线江山社区路段", lexicon)
    assert (parsed.road, parsed.area_hint, parsed.place) == ("武柳线", "江山社区", None)
    parsed = parse("江山社区武柳线边", lexicon)
    assert (parsed.village, parsed.road, parsed.relation) == ("江山社区", "武柳线", "边")
