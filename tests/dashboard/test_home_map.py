"""Home: the county map draws the squads' areas from the basemap's tiles, so its first payload carries no geometry."""

from __future__ import annotations

import json

import pytest

from dashboard import basemap
from layers._style import squad_colors
from tests.dashboard.conftest import callback_bodies, county_on_screen, wait_for_squad_areas


def test_squad_areas_are_styled_from_the_tiles_in_each_squads_colour() -> None:
    colors = squad_colors(["ZD01", "ZD02", "ZD03"])
    assert list(colors) == ["ZD01", "ZD02", "ZD03"] and len(set(colors.values())) == 3
    fill, line = basemap.squad_area_layers(colors)
    assert fill["source-layer"] == line["source-layer"] == "jurisdictions"
    assert fill["paint"]["fill-color"] == ["match", ["get", "code"], *sum(colors.items(), ()), "rgba(0,0,0,0)"]
    assert basemap.squad_area_layers({}) == []


@pytest.mark.browser
def test_home_map_sends_no_geometry_and_draws_every_squad_from_the_tiles(page_at, seeded) -> None:
    page = page_at("/", width=1366, height=768)
    bodies = callback_bodies(page)
    page.reload()
    assert wait_for_squad_areas(page, 13) == [f"ZD{i:02d}" for i in range(1, 14)]
    figure = page.evaluate("document.querySelector('#home-county-map .js-plotly-plot').data.map(t => t.type)")
    assert "choroplethmap" not in figure  # no jurisdiction polygons in the figure
    content = next(b for b in bodies if "home-county-map" in b and "_pages_content" in b)
    assert "FeatureCollection" not in content and "coordinates" not in content
    style = json.loads(content)["response"]["_pages_content"]["children"]
    assert "squad-fill" in json.dumps(style)
    assert not page.console_errors


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 768)])
def test_the_whole_county_is_in_view_on_a_phone_and_a_laptop(page_at, seeded, screenshots, width, height) -> None:
    page = page_at("/", width=width, height=height)
    wait_for_squad_areas(page, 1)
    for _ in range(40):  # fitted once the page has measured its map
        view = county_on_screen(page, "home-county-map")
        if view["inside"]:
            break
        page.wait_for_timeout(500)
    page.screenshot(path=str(screenshots / f"home_fit_{width}x{height}.png"))
    assert view["inside"], view
    assert view["span"] > 0.6, view  # and it uses the map, not a dot in the middle
    assert page.evaluate("document.documentElement.scrollWidth") <= width
