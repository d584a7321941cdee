"""The wall tells one story, readable from across the room: the squads' minutes and colours agree
between map, list and colour bar; the rotation's squad is outlined on the map; no text under 24 px
at 1080 lines (scaled at 2160); the kiosk map does not zoom with the wheel; a squad leader's or
street chief's wall names their squad and counts their squad's officers."""

from __future__ import annotations

import re

import pytest
from plotly.colors import sample_colorscale
from sqlalchemy import text

from dashboard import fmt
from geo.db import get_engine
from geo.region import get_region
from geo.settings import PROJECT_ROOT
from layers.base import LayerParams, Scope
from layers.queries.kpis import wall_figures
from layers.stats.response_time import ARRIVAL_LABEL
from tests.dashboard.conftest import map_state, wait_for_traces

pytestmark = pytest.mark.browser
SCREENS = PROJECT_ROOT / "var" / "screens"
MIN_PX = 24  # at 1080 lines

_FIGURE = """() => {
    const gd = document.querySelector('#wall-map .js-plotly-plot');
    const squads = gd.data.find(t => t.meta && t.meta.layer === 'response_times');
    const hot = gd.data.find(t => t.meta && t.meta.layer === 'hotspots');
    const focus = gd.data.find(t => t.meta && t.meta.layer === 'focus');
    return {locations: squads.locations, z: squads.z, zmin: squads.zmin, zmax: squads.zmax,
            colorscale: squads.colorscale, title: squads.colorbar.title.text,
            hot: hot ? {text: hot.text, hovertemplate: hot.hovertemplate} : null,
            focus: focus ? focus.locations : null};
}"""
_ROWS = """() => [...document.querySelectorAll('#wall-ranking .rank-row')].map(r => ({
    squad: r.dataset.squad, minutes: r.dataset.minutes, value: r.querySelector('.rank-value').innerText,
    colour: getComputedStyle(r).borderLeftColor}))"""
# Every visible element that holds text of its own, and every SVG text of the map (colour bar).
_FONT_SIZES = """() => {
    const out = [];
    for (const el of document.querySelectorAll('.wall *')) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own || !el.getClientRects().length) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || style.display === 'none') continue;
        out.push([el.tagName + '.' + (el.getAttribute('class') || ''), el.textContent.trim().slice(0, 20),
                  parseFloat(style.fontSize)]);
    }
    return out;
}"""
_SQUAD_LABELS = """() => {
    const map = document.querySelector('#wall-map .js-plotly-plot')._fullLayout.map._subplot.map;
    return map.queryRenderedFeatures({layers: ['label-squad']}).map(f => f.layer.layout['text-size']);
}"""


def _rgb(colour: str) -> tuple[float, ...]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", colour)[:3])


def _open_wall(page_at, width: int = 1920, height: int = 1080, path: str = "/wall", user: str | None = None):
    page = page_at(path, width=width, height=height, user=user)
    page.wait_for_selector("#wall-ranking .rank-row", timeout=30000)
    wait_for_traces(page, "wall-map", "response_times", timeout_ms=30000)
    return page


def test_the_list_and_the_map_give_every_squad_the_same_minutes_and_colour(page_at, seeded) -> None:
    page = _open_wall(page_at)
    figure = page.evaluate(_FIGURE)
    rows = page.evaluate(_ROWS)
    on_map = dict(zip(figure["locations"], figure["z"], strict=True))
    assert len(rows) == 13 and {r["squad"] for r in rows} == set(on_map)
    low, high = figure["zmin"], figure["zmax"]
    assert (low, high) == (0, 2 * get_region().arrive_limit_min)  # the scale is pinned to the 到场时限
    for row in rows:
        z = on_map[row["squad"]]
        assert float(row["minutes"]) == z, row
        assert row["value"] == f"{z:.0f} 分钟"
        expected = sample_colorscale(figure["colorscale"], [min(max((z - low) / (high - low), 0), 1)])[0]
        assert _rgb(row["colour"]) == pytest.approx(_rgb(expected), abs=1.01), row
    assert figure["title"].replace("<br>", "") == ARRIVAL_LABEL  # in two lines: the bar stays narrow
    assert ARRIVAL_LABEL in page.inner_text("#wall-ranking h2")

    # The figure is the median over the cases of 受理→到场 this year, counted independently here.
    with get_engine().connect() as conn:
        reference = wall_figures(conn, LayerParams(scope=Scope(aggregates_only=True)))["reference_day"]
        medians = dict(
            conn.execute(
                text(
                    """SELECT squad_code, percentile_cont(0.5) WITHIN GROUP (
                              ORDER BY extract(epoch FROM arrived_at - received_at) / 60.0)
                       FROM cases
                       WHERE arrived_at >= received_at
                         AND (received_at AT TIME ZONE :tz)::date BETWEEN make_date(:year, 1, 1) AND :ref
                       GROUP BY squad_code"""
                ),
                {"tz": get_region().timezone, "year": reference.year, "ref": reference},
            ).all()
        )
    for code, z in on_map.items():
        assert z == pytest.approx(medians[code], abs=0.5 + 1e-6), code
    slow = seeded.squads["ZD03"]  # the seed's slow squad: red in the list, as on the map
    assert slow in page.inner_text("#wall-ranking .rank-row.resp-bad")

    # Hotspot cells: plain Chinese in the tooltip and a legend entry, no z or q.
    hot = figure["hot"]
    assert hot and "高度聚集（99 % 置信）" in hot["text"]
    assert "z =" not in hot["hovertemplate"] and "q =" not in hot["hovertemplate"]
    legend = page.inner_text("#wall-legend")
    assert "高度聚集（99 % 置信）" in legend and "轮播中的中队" in legend
    assert not page.console_errors


def test_the_squad_the_rotation_shows_is_outlined_on_the_map(page_at, seeded) -> None:
    page = _open_wall(page_at, path="/wall?rotate=3")
    names = {name: code for code, name in seeded.squads.items()}
    shown: list[str] = []
    for _ in range(3):  # the outline names the squad the panel names, whenever the panel moves on
        code = page.wait_for_function(
            """([names, seen]) => {
                const gd = document.querySelector('#wall-map .js-plotly-plot');
                const f = gd.data.find(t => t.meta && t.meta.layer === 'focus');
                const code = names[document.querySelector('#wall-rotation .rotation-name').innerText];
                return f && code && !seen.includes(code) && f.locations.length === 1 && f.locations[0] === code
                    ? code : false; }""",
            arg=[names, shown],
            timeout=30000,
        ).json_value()
        shown.append(code)
    assert len(set(shown)) == 3  # it moved with the rotation
    outline = page.evaluate(
        """() => { const map = document.querySelector('#wall-map .js-plotly-plot')._fullLayout.map._subplot.map;
            return map.getStyle().layers.filter(l => l.paint && l.paint['line-color'] === '#00e5ff')
                .map(l => l.paint['line-width']); }"""
    )
    assert outline and outline[0] >= 4  # drawn, and thick enough to see from across the room
    assert not page.console_errors


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_the_wall_is_readable_from_across_the_room(page_at, seeded, width: int, height: int) -> None:
    scale = height / 1080
    page = _open_wall(page_at, width, height)
    page.wait_for_function(  # the screen's scale has reached the map (county fitted, names scaled)
        "(z) => document.querySelector('#wall-map .js-plotly-plot')._fullLayout.map.zoom > z",
        arg=10.5 if scale > 1 else 0,
        timeout=30000,
    )
    page.wait_for_function(f"() => ({_SQUAD_LABELS})().length >= 5", timeout=30000)
    page.wait_for_timeout(1500)  # let MapLibre paint before the screenshot
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"wall_{width}x{height}.png"))

    small = [entry for entry in page.evaluate(_FONT_SIZES) if entry[2] < MIN_PX * scale - 0.5]
    assert small == [], small
    svg = page.evaluate(
        """() => [...document.querySelectorAll('#wall-map svg text')].filter(t => t.textContent.trim())
            .map(t => [t.textContent.trim(), parseFloat(getComputedStyle(t).fontSize)])"""
    )
    assert svg and all(size >= MIN_PX * scale - 0.5 for _, size in svg), svg  # colour-bar title and ticks
    labels = page.evaluate(_SQUAD_LABELS)
    assert min(labels) >= 36 * scale - 0.5, labels  # squad names, from 5 m

    # The kiosk's map does not zoom with the mouse wheel (an accidental zoom would never reset).
    before = map_state(page, "wall-map")["zoom"]
    box = page.locator("#wall-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):
        page.mouse.wheel(0, -400)
        page.wait_for_timeout(150)
    page.wait_for_timeout(800)
    assert map_state(page, "wall-map")["zoom"] == pytest.approx(before, abs=1e-9)
    assert not page.console_errors


@pytest.mark.parametrize("user", ["leader1", "chief1"])
def test_a_squad_wall_names_the_squad_and_counts_its_officers(page_at, seeded, user: str) -> None:
    page = _open_wall(page_at, user=user)
    squad = seeded.squads["ZD01"]  # both accounts belong to ZD01
    title = page.inner_text("h1")
    assert squad in title and "指挥中心" not in title and get_region().name not in title
    with get_engine().connect() as conn:
        officers = conn.execute(text("SELECT officers FROM squads WHERE code = 'ZD01'")).scalar_one()
        everyone = conn.execute(text("SELECT sum(officers) FROM squads")).scalar_one()
        figures = wall_figures(conn, LayerParams(scope=Scope(squads=("ZD01",), aggregates_only=True)))
    assert 0 < officers < everyone
    card = page.locator(".kpi", has_text="人均办案")
    assert card.locator(".kpi-value").inner_text() == fmt.number(figures["cases_this_year"] / officers, 1)
    assert f"{officers} 名执法队员" in card.locator(".kpi-detail").inner_text()
    assert [r["squad"] for r in page.evaluate(_ROWS)] == ["ZD01"]  # the list is the squad's too


def test_the_command_centre_wall_counts_every_officer(page_at, seeded) -> None:
    page = _open_wall(page_at)
    assert "指挥中心" in page.inner_text("h1")
    with get_engine().connect() as conn:
        everyone = conn.execute(text("SELECT sum(officers) FROM squads")).scalar_one()
    assert f"{everyone} 名执法队员" in page.locator(".kpi", has_text="人均办案").inner_text()
