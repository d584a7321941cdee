"""Case addresses written the many ways people write them (prefixes, 附近/对面/路口, 交叉口, 幢/单元, villages)."""

from __future__ import annotations

import numpy as np

from geo.admin_names import admin_aliases
from geo.region import Region

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
NEAR_WORDS = ["附近", "对面", "门口", "旁", "东侧", "西侧", "南门", "北门", "路口", "周边"]
CROSS_FORMS = ["{a}与{b}交叉口", "{a}{b}路口", "{a}和{b}交叉口", "{a}/{b}交叉路口", "{a}与{b}交界处"]
VILLAGE_FORMS = ["{t}{v}", "{v}", "{v}{n}号", "{t}{v}{n}号", "{v}村口", "{ts}{vs}", "{v}后山", "{v}文化礼堂旁"]
# Addresses that match nothing in the gazetteer (planted as dirty rows).
UNMATCHABLE = [
    "不详",
    "见附件",
    "同上",
    "现场",
    "幸福大道188号",
    "和平西路与朝阳东路交叉口",
    "锦江花园小区3幢",
    "——",
    "东方红农场",
]


def prefix(rng: np.random.Generator, forms: tuple[str, ...], region: Region, township: str, township_short: str) -> str:
    """How much of 浙江省金华市武义县 + township the writer put in front: one of the demo config's ``forms``.

    A form is a template over ``province``, ``city``, ``city_short``, ``county``, ``short`` (the
    region's short name), ``township`` and ``township_short``; forms are drawn uniformly.
    """
    form = forms[int(rng.integers(0, len(forms)))]
    return form.format(
        province=region.province,
        city=region.city,
        city_short=admin_aliases(region.city, "city")[-1] if region.city else "",
        county=region.name,
        short=region.short_name,
        township=township,
        township_short=township_short,
    )


def door_address(rng: np.random.Generator, street: str, number: int) -> tuple[str, str]:
    """``XX路123号`` and its variants; returns (text, style)."""
    roll = rng.random()
    if number <= 0 or roll < 0.12:
        return street, "道路"
    if roll < 0.2:
        return f"{street}{number}号{NEAR_WORDS[int(rng.integers(0, 5))]}", "门牌附近"
    if roll < 0.25:
        return f"{street}{number}", "门牌无号字"
    return f"{street}{number}号", "门牌"


def place_address(rng: np.random.Generator, place: str, kind: str) -> tuple[str, str]:
    """A place name with 附近/对面/… or, for compounds, 幢/单元/室."""
    if kind == "小区" and rng.random() < 0.55:
        building = int(rng.integers(1, 30))
        roll = rng.random()
        if roll < 0.4:
            unit, floor, flat = int(rng.integers(1, 4)), int(rng.integers(1, 18)), int(rng.integers(1, 4))
            return f"{place}{building}幢{unit}单元{floor}0{flat}室", "小区幢单元"
        if roll < 0.7:
            return f"{place}{building}栋", "小区幢"
        return f"{place}{building}幢{int(rng.integers(1, 4))}单元", "小区幢单元"
    if rng.random() < 0.35:
        return place, "地点"
    return place + NEAR_WORDS[int(rng.integers(0, len(NEAR_WORDS)))], "地点附近"


def cross_address(rng: np.random.Generator, a: str, b: str) -> tuple[str, str]:
    """An intersection of two streets, written one of several ways."""
    form = CROSS_FORMS[int(rng.integers(0, len(CROSS_FORMS)))]
    return form.format(a=a, b=b), "交叉口"


def village_address(
    rng: np.random.Generator, township: str, township_short: str, village: str, village_short: str
) -> tuple[str, str]:
    """A village address: with or without the township, door number, 村口 …"""
    form = VILLAGE_FORMS[int(rng.integers(0, len(VILLAGE_FORMS)))]
    text = form.format(t=township, ts=township_short, v=village, vs=village_short, n=int(rng.integers(1, 260)))
    return text, "村社区"


def road_section(rng: np.random.Generator, road: str, township_short: str, village: str) -> tuple[str, str]:
    """A spot on a road between towns: ``武柳线柳城段``, ``武柳线XX村路段`` …"""
    roll = rng.random()
    if roll < 0.4:
        return f"{road}{township_short}段", "道路"
    if roll < 0.75:
        return f"{road}{village}路段", "道路"
    return f"{village}{road}边", "道路"


def scribble(rng: np.random.Generator, text: str) -> str:
    """Typing habits: full-width digits, stray spaces."""
    roll = rng.random()
    if roll < 0.05:
        return text.translate(FULL_WIDTH)
    if roll < 0.08 and len(text) > 3:
        cut = int(rng.integers(1, len(text) - 1))
        return text[:cut] + " " + text[cut:]
    return text
