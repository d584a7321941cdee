"""Maps people can read, offline: names drawn by MapLibre from the app's vector tiles in the font the
app serves, on every page, and no request to any host but the app."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geo.db import get_engine
from tests.dashboard.conftest import foreign_requests

pytestmark = pytest.mark.browser

PAGES = ("/", "/wall", "/squad/ZD01", "/street/JL001", "/cases")

# The MapLibre map of the first plotly map on the page, once its style and tiles are loaded.
_GD = "[...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout && g._fullLayout.map)"
_MAP = f"{_GD}._fullLayout.map._subplot.map"
_READY = f"""() => {{ const gd = {_GD};
    if (!gd || !gd._fullLayout.map._subplot || !gd._fullLayout.map._subplot.map) return false;
    const m = gd._fullLayout.map._subplot.map; return m.isStyleLoaded() && m.areTilesLoaded(); }}"""
_LABELS = f"""() => {{ const m = {_MAP};
    const ids = m.getStyle().layers.filter(l => l.type === 'symbol').map(l => l.id);
    return m.queryRenderedFeatures({{layers: ids}}).map(f => [f.layer.id, f.properties.name]); }}"""


def _labels_at(page, lon: float | None = None, lat: float | None = None, zoom: float | None = None) -> set[tuple]:
    """(label layer, name) of every name MapLibre has placed on the map, after moving it if asked."""
    page.wait_for_function(_READY, timeout=30000)
    if zoom is None:
        page.wait_for_timeout(800)  # symbol placement runs after the tiles are in
        return {tuple(pair) for pair in page.evaluate(_LABELS)}
    # A redraw of the page's figure (e.g. when the segment geometry arrives) may still be under way:
    # the view is set again until it holds, and the names are read once two readings agree.
    previous: set[tuple] | None = None
    for _ in range(12):
        view = page.evaluate(
            f"() => {{ const m = {_MAP}; const c = m.getCenter(); return [c.lng, c.lat, m.getZoom()]; }}"
        )
        if abs(view[0] - lon) > 1e-4 or abs(view[1] - lat) > 1e-4 or abs(view[2] - zoom) > 0.01:
            page.evaluate(f"([lon, lat, z]) => {_MAP}.jumpTo({{center: [lon, lat], zoom: z}})", [lon, lat, zoom])
        page.wait_for_timeout(300)
        page.wait_for_function(_READY, timeout=30000)
        page.wait_for_timeout(500)  # symbol placement runs after the tiles are in
        labels = {tuple(pair) for pair in page.evaluate(_LABELS)}
        if labels and labels == previous:
            return labels
        previous = labels
    return previous or set()


def test_names_are_drawn_on_the_map_townships_squads_and_streets(page_at, seeded, screenshots) -> None:
    with get_engine().connect() as conn:
        townships = set(conn.execute(text("SELECT name FROM admin_areas WHERE level = 'township'")).scalars())
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) c FROM street_segments"
                " WHERE squad_code = 'ZD01' AND name = '解放街') s"
            )
        ).one()
    page = page_at("/squad/ZD01")
    county = _labels_at(page, 119.82, 28.85, 10)
    assert {name for layer, name in county if layer == "label-township"} & townships
    assert {name for layer, name in county if layer == "label-squad"} & set(seeded.squads.values())
    streets = _labels_at(page, lon, lat, 15)
    page.screenshot(path=str(screenshots / "labels_streets_z15.png"))
    street_names = {name for layer, name in streets if layer in {"label-street", "label-main-road"}}
    assert street_names & {"解放街", "熟溪路", "壶山路", "温泉路", "武阳路", "永康街"}
    assert not page.console_errors


def test_wall_names_the_squads_in_large_type(page_at, seeded, screenshots) -> None:
    page = page_at("/wall")
    labels = _labels_at(page)
    page.screenshot(path=str(screenshots / "wall_labels_1920x1080.png"))
    assert {name for layer, name in labels if layer == "label-squad"} & set(seeded.squads.values())
    size = page.evaluate(f"() => {_MAP}.getLayoutProperty('label-squad', 'text-size')")
    assert min(v for v in size if isinstance(v, int | float) and v > 20) >= 24  # readable from 5 m on 1080p


@pytest.mark.parametrize("path", PAGES)
def test_no_request_leaves_the_app(path: str, page_at, dash_server, seeded) -> None:
    page = page_at(path)
    _labels_at(page, 119.82, 28.90, 14)  # zoomed in: street tiles, names, the font
    urls = page.requests
    assert any("/basemap/tiles/" in u for u in urls) and any(u.endswith("/basemap/font") for u in urls)
    assert foreign_requests(urls, dash_server) == []


def test_wall_colour_bar_leaves_the_county_visible(page_at, seeded) -> None:
    from geo.region import get_region

    page = page_at("/wall")
    page.wait_for_selector("#wall-map .colorbar", timeout=30000)
    _labels_at(page)
    outline = [list(xy) for xy in get_region().outline.exterior.coords]
    inside = page.evaluate(
        f"""(coords) => {{ const m = {_MAP};
            const bar = document.querySelector('#wall-map .colorbar').getBoundingClientRect();
            const box = m.getContainer().getBoundingClientRect();
            return coords.map(c => m.project(c)).filter(p => {{
                const x = p.x + box.left, y = p.y + box.top;
                return x >= bar.left && x <= bar.right && y >= bar.top && y <= bar.bottom; }}).length; }}""",
        outline,
    )
    assert inside == 0, f"{inside} points of the county outline under the colour bar"
