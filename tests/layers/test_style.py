"""One meaning per colour across the map overlays (before, red meant 超过7天或未巡查, 热点 99 % and 案件多巡查少)."""

from __future__ import annotations

import colorsys

from layers._style import HOTSPOT_CLASSES, UNDERPATROLLED
from layers.patrol import RECENCY_CLASSES
from layers.sanitation import STATUSES as SANITATION_CLASSES


def _hue(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


def test_no_colour_stands_for_two_things_on_the_maps() -> None:
    meanings = [(label, color) for _, label, color in RECENCY_CLASSES]
    meanings += list(HOTSPOT_CLASSES.values())
    meanings += [("案件多、巡查少", UNDERPATROLLED)]
    meanings += list(SANITATION_CLASSES.values())
    by_color: dict[str, set[str]] = {}
    for label, color in meanings:
        by_color.setdefault(color.lower(), set()).add(label)
    assert {c: labels for c, labels in by_color.items() if len(labels) > 1} == {}


def test_stale_streets_hotspots_and_underpatrolled_streets_have_distinct_hues() -> None:
    stale = RECENCY_CLASSES[-1][2]
    hot = HOTSPOT_CLASSES[3][1]
    hue_gap = abs(_hue(stale) - _hue(hot))
    assert min(hue_gap, 360 - hue_gap) > 60  # red and purple, not two reds
    r, g, b = (int(UNDERPATROLLED[i : i + 2], 16) for i in (1, 3, 5))
    assert max(r, g, b) < 64  # near-black: no hue to confuse with either
    for label, color in HOTSPOT_CLASSES.values():
        if label.startswith("热点") and color.startswith("#"):
            gap = abs(_hue(color) - _hue(stale))
            assert min(gap, 360 - gap) > 60, label
