"""The basemap's roads never look like a patrol class: no road colour near a patrol legend colour."""

from __future__ import annotations

import pytest

from dashboard import basemap
from layers.patrol import RECENCY_CLASSES

MIN_DELTA_E = 30.0  # CIE76 distance in Lab; ~2.3 is "just noticeable", 30+ reads as another colour family


def _lab(hex_color: str) -> tuple[float, float, float]:
    """CIE Lab (D65) of an ``#rrggbb`` colour."""
    rgb = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(one: str, other: str) -> float:
    """CIE76 colour difference of two ``#rrggbb`` colours."""
    return sum((x - y) ** 2 for x, y in zip(_lab(one), _lab(other), strict=True)) ** 0.5


def test_delta_e_tells_near_colours_from_far_ones() -> None:
    assert delta_e("#fdae61", "#fdae61") == 0
    assert delta_e("#d9a45b", "#fdae61") < MIN_DELTA_E  # the old main-road tan against "7天内巡查"
    assert delta_e("#000000", "#ffffff") == pytest.approx(100, abs=0.1)


@pytest.mark.parametrize("palette", [basemap.LIGHT, basemap.DARK], ids=["light", "dark"])
def test_no_basemap_road_looks_like_a_patrol_class(palette: basemap.Palette) -> None:
    roads = {"main_road": palette.main_road, "street": palette.street, "township_line": palette.township_line}
    near = [
        f"{role} {color} ~ {label} {patrol} (ΔE {delta_e(color, patrol):.0f})"
        for role, color in roads.items()
        for _, label, patrol in RECENCY_CLASSES
        if delta_e(color, patrol) < MIN_DELTA_E
    ]
    assert near == []


def test_the_light_style_draws_roads_in_the_palette_colours() -> None:
    paints = {layer["id"]: layer.get("paint", {}) for layer in basemap.style_layers(basemap.LIGHT)}
    colours = {paint.get("line-color") for paint in paints.values()} - {None}
    assert {basemap.LIGHT.main_road, basemap.LIGHT.street} <= colours
