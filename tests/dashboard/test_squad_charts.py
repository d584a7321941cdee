"""The squad page in a real browser: legend entries toggle their layer, one colour per meaning, the
time-used chart with open cases and a legend that stays, and "when" heatmaps for the squad and a segment."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bench._browser import choose
from geo.db import get_engine
from geo.settings import PROJECT_ROOT
from layers._style import HOTSPOT_CLASSES
from tests.dashboard.test_squad import _window

HOT_99 = HOTSPOT_CLASSES[3][0]  # the legend's wording of the 99 % hot cells
pytestmark = pytest.mark.browser
SCREENS = PROJECT_ROOT / "var" / "screens"

_GROUPS_JS = """(group) => document.querySelector('#squad-map .js-plotly-plot').data
    .filter(t => t.legendgroup === group).map(t => t.visible !== false)"""

_ALL_HIDDEN = f"(g) => {{ const v = ({_GROUPS_JS})(g); return v.length > 0 && v.every(x => x === false); }}"
_ALL_SHOWN = f"(g) => {{ const v = ({_GROUPS_JS})(g); return v.length > 0 && v.every(x => x === true); }}"


def _legend_item(page, label: str):
    return page.locator("#squad-legend .legend-item", has_text=label).first


def _group_of(item) -> str:
    return item.evaluate("e => JSON.parse(e.id).group")


def test_clicking_a_legend_entry_hides_and_shows_its_layer(squad_page) -> None:
    page = squad_page
    stale = _legend_item(page, "超过7天或未巡查")
    group = _group_of(stale)
    assert page.evaluate(_GROUPS_JS, group) and all(v is True for v in page.evaluate(_GROUPS_JS, group))
    others = page.evaluate(_GROUPS_JS, "patrol_coverage:1天内巡查")
    stale.click()
    page.wait_for_function(_ALL_HIDDEN, arg=group, timeout=10000)
    assert "legend-off" in (stale.get_attribute("class") or "")
    assert page.evaluate(_GROUPS_JS, "patrol_coverage:1天内巡查") == others  # only that entry's segments
    # the whole hotspot layer (one trace for all its classes) goes with a click on one of its entries
    hot = _legend_item(page, HOT_99)
    hot.click()
    page.wait_for_function(_ALL_HIDDEN, arg="hotspots", timeout=10000)
    # a filter change re-renders the map: what was switched off stays off
    choose(page, "squad-procedure", "投诉举报")
    page.wait_for_function(  # the response chart comes with the map in the same re-render
        """() => document.querySelector('#squad-response .js-plotly-plot')._fullData
            .filter(t => t.name.endsWith('（已办结）')).length === 1""",
        timeout=30000,
    )
    assert page.evaluate(_ALL_HIDDEN, "hotspots")
    assert "legend-off" in (_legend_item(page, "超过7天或未巡查").get_attribute("class") or "")
    _legend_item(page, "超过7天或未巡查").click()
    page.wait_for_function(_ALL_SHOWN, arg=group, timeout=10000)
    assert "legend-off" not in (_legend_item(page, "超过7天或未巡查").get_attribute("class") or "")
    assert not page.failures and not page.console_errors


def test_the_legend_gives_each_colour_one_meaning(squad_page) -> None:
    swatches = squad_page.evaluate(
        """() => Array.from(document.querySelectorAll('#squad-legend .legend-item')).map(
            e => [e.innerText.trim(), getComputedStyle(e.querySelector('i')).backgroundColor])"""
    )
    labels = dict(swatches)
    assert {"超过7天或未巡查", HOT_99, "案件多、巡查少"} <= set(labels)
    colors = [labels["超过7天或未巡查"], labels[HOT_99], labels["案件多、巡查少"]]
    assert len(set(colors)) == 3, colors
    by_color: dict[str, list[str]] = {}
    for label, color in swatches:
        by_color.setdefault(color, []).append(label)
    assert [labels for labels in by_color.values() if len(labels) > 1] == []


_RESPONSE_JS = """() => { const gd = document.querySelector('#squad-response .js-plotly-plot');
    return {names: gd._fullData.map(t => t.name), legend: gd._fullLayout.showlegend,
            shown: !!gd.querySelector('.legend'), x: gd._fullData[0] && Array.from(gd._fullData[0].x),
            y: gd._fullData.map(t => Array.from(t.y))}; }"""


def test_time_used_chart_shows_open_cases_fine_bins_and_keeps_its_legend(squad_page) -> None:
    page = squad_page
    engine = get_engine()
    start, end = _window(engine)
    with engine.connect() as conn:
        open_cases, due = conn.execute(
            text(
                """SELECT count(*) FILTER (WHERE closed_at IS NULL), count(*) FROM cases
                   WHERE squad_code = 'ZD01' AND due_at IS NOT NULL
                     AND (received_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN :s AND :e"""
            ),
            {"s": start, "e": end},
        ).one()
    chart = page.evaluate(_RESPONSE_JS)
    assert chart["legend"] and chart["shown"]
    if open_cases:
        assert "未办结（已用）" in chart["names"]
    bars = [sum(column) for column in zip(*chart["y"], strict=True)]
    assert sum(bars) == due  # every case with a time limit, closed or open, is in a bar
    assert max(bars) < 0.9 * sum(bars), dict(zip(chart["x"], bars, strict=True))  # not ~99 % in one bar
    choose(page, "squad-procedure", "简易程序")
    page.wait_for_function(
        """() => { const gd = document.querySelector('#squad-response .js-plotly-plot');
            return gd._fullData.filter(t => t.name.endsWith('（已办结）')).length === 1; }""",
        timeout=20000,
    )
    chart = page.evaluate(_RESPONSE_JS)
    assert chart["legend"] and chart["shown"]  # before, one procedure type hid the legend
    assert not page.failures and not page.console_errors


_HEATMAP_JS = """(id) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
    const t = gd._fullData.find(t => t.type === 'heatmap');
    return t ? {y: Array.from(t.y), x: Array.from(t.x), total: t.z.flat().reduce((a, b) => a + b, 0)} : null; }"""


def test_when_heatmaps_for_the_squad_and_the_selected_segment(squad_page, seeded) -> None:
    page = squad_page
    engine = get_engine()
    start, end = _window(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                """SELECT extract(isodow FROM received_at AT TIME ZONE 'Asia/Shanghai')::int AS d,
                          extract(hour FROM received_at AT TIME ZONE 'Asia/Shanghai')::int AS h, count(*)
                   FROM cases WHERE squad_code = 'ZD01'
                     AND (received_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN :s AND :e GROUP BY 1, 2"""
            ),
            {"s": start, "e": end},
        ).all()
    squad = page.evaluate(_HEATMAP_JS, "squad-when")
    assert squad["y"] == ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    assert squad["x"] == [f"{h}时" for h in range(24)]
    assert squad["total"] == sum(n for _, _, n in rows)
    busiest_day, busiest_hour, busiest = max(rows, key=lambda r: r[2])
    cell = page.evaluate(
        "([d, h]) => document.querySelector('#squad-when .js-plotly-plot')._fullData[0].z[d - 1][h]",
        [busiest_day, busiest_hour],
    )
    assert cell == busiest  # local weekday and hour, Monday first
    assert page.evaluate(_HEATMAP_JS, "squad-when-segment") is None  # nothing chosen yet

    page.locator("#squad-ranked .ag-row[row-index='0']").click()
    page.wait_for_function(
        "() => document.querySelector('#squad-cases-title').innerText.includes('所选路段上的案件')", timeout=20000
    )
    listed = int(page.inner_text("#squad-cases-title").split("：")[1].split(" ")[0])
    page.wait_for_function(
        "(n) => document.querySelector('#squad-when-segment-title').innerText.includes('（' + n + ' 件）')",
        arg=listed,
        timeout=20000,
    )
    segment = page.evaluate(_HEATMAP_JS, "squad-when-segment")
    assert segment["total"] == listed > 0  # the same cases as the drill-down lists
    assert not page.failures and not page.console_errors


def test_squad_page_screenshots(page_at, dash_url) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1920, 1080), (390, 844)):
        page = page_at("/squad/ZD01", width=width, height=height)
        page.wait_for_selector("#squad-when .js-plotly-plot .heatmaplayer", timeout=30000)
        page.wait_for_selector("#squad-ranked .ag-row", timeout=20000)
        page.wait_for_timeout(2000)
        page.screenshot(path=str(SCREENS / f"squad_{width}x{height}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"page scrolls sideways by {overflow}px at {width}px"
        assert not page.console_errors
