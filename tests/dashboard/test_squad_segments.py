"""The squad leader's "cases on a segment" in a real browser: ranking = drill-down = export = map, clicks on lines."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import text

from geo.db import get_engine
from geo.settings import PROJECT_ROOT
from tests.dashboard.conftest import click_map_until, map_state, wait_for_traces, watch_callbacks
from tests.dashboard.test_squad import _count

pytestmark = pytest.mark.browser

SCREENS = PROJECT_ROOT / "var" / "screens"
RANKED_ROWS_JS = """() => { const api = dash_ag_grid.getApi('squad-ranked'); const rows = [];
    api.forEachNodeAfterFilterAndSort(n => rows.push(n.data)); return rows; }"""
FOCUS_JS = """() => { const gd = document.querySelector('#squad-map .js-plotly-plot');
    const parts = gd._fullData.filter(t => t.meta && t.meta.layer === 'selected');
    if (!parts.length) return null;
    const points = parts.find(t => t.mode === 'markers');
    const line = parts.find(t => t.mode === 'lines');
    const lon = Array.from(line.lon).filter(v => v !== null && !isNaN(v));
    const lat = Array.from(line.lat).filter(v => v !== null && !isNaN(v));
    return {segment: points.meta.segment_id, points: points.lon.length,
            lon: [Math.min(...lon), Math.max(...lon)], lat: [Math.min(...lat), Math.max(...lat)],
            center: gd._fullLayout.map.center, zoom: gd._fullLayout.map.zoom}; }"""


@pytest.fixture
def squad_page(page_at, dash_url):
    page = page_at("/squad/ZD01")
    page.failures = watch_callbacks(page)
    page.reload()
    wait_for_traces(page, "squad-map", "underpatrolled")
    page.wait_for_selector("#squad-ranked .ag-row", timeout=20000)
    return page


def _title_says(page, count: int) -> None:
    page.wait_for_function(
        "(t) => document.querySelector('#squad-cases-title').innerText.includes(t)",
        arg=f"所选路段上的案件：{count} 件",
        timeout=20000,
    )


def _focused_on(page, segment_id: int) -> dict:
    page.wait_for_function(
        "(s) => { const f = (" + FOCUS_JS + ")(); return f && f.segment === s; }", arg=segment_id, timeout=20000
    )
    return page.evaluate(FOCUS_JS)


def _exported_rows(page, tmp_path, name: str) -> int:
    with page.expect_download() as download:
        page.click("#squad-export-cases")
    path = tmp_path / name
    download.value.save_as(path)
    return len(list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))) - 1


def test_ranking_drill_down_export_and_map_agree_for_several_segments(squad_page, tmp_path) -> None:
    page = squad_page
    engine = get_engine()
    ranked = page.evaluate(RANKED_ROWS_JS)
    assert len(ranked) >= 3
    first_zoom = map_state(page, "squad-map")["zoom"]
    for index, row in enumerate(ranked[:4]):
        segment, count = int(row["segment_id"]), int(row["cases"])
        assert count == _count(engine, "near_segment_id = :s", s=segment)  # the one stored definition
        page.locator(f"#squad-ranked .ag-row[row-index='{index}']").click()
        _title_says(page, count)
        assert page.evaluate("dash_ag_grid.getApi('squad-cases').getDisplayedRowCount()") == count
        focus = _focused_on(page, segment)
        assert focus["points"] == count  # the map shows the same cases
        caption = page.inner_text("#squad-focus")
        assert row["label"] in caption and f"地图上标出案件 {count} 件" in caption
        assert row["chief"] and f"街路长：{row['chief']}" in caption
        # zoomed to the segment: the centre lies on its box, closer than the squad's view
        assert focus["lon"][0] - 1e-4 <= focus["center"]["lon"] <= focus["lon"][1] + 1e-4
        assert focus["lat"][0] - 1e-4 <= focus["center"]["lat"] <= focus["lat"][1] + 1e-4
        assert focus["zoom"] > first_zoom + 1
        assert _exported_rows(page, tmp_path, f"cases-{index}.xlsx") == count
        if index == 0:
            SCREENS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENS / "squad_row_selected_1920x1080.png"))
    labels = [r["label"] for r in ranked]
    assert len(set(labels)) == len(labels)  # segments that share a name are told apart
    assert not page.failures and not page.console_errors


def test_clicking_a_segment_line_on_the_map_opens_its_drill_down(squad_page) -> None:
    page = squad_page
    engine = get_engine()
    page.get_by_text("案件热点", exact=True).click()  # hide the hotspot cells: the click is meant for the line
    page.wait_for_function(
        """() => !document.querySelector('#squad-map .js-plotly-plot').data
                .some(t => t.meta && t.meta.layer === 'hotspots')""",
        timeout=20000,
    )
    ranked = page.evaluate(RANKED_ROWS_JS)
    for row, where in zip(ranked[1:3], (0.0, 0.5), strict=True):  # an end of the line, then its middle
        segment = int(row["segment_id"])
        count = _count(engine, "near_segment_id = :s", s=segment)
        with engine.connect() as conn:
            lon, lat = conn.execute(
                text(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(geom, :f) AS p "
                    "FROM street_segments WHERE id = :s) q"
                ),
                {"s": segment, "f": where},
            ).one()
        click_map_until(page, "squad-map", lon, lat, "squad-cases-title", f"所选路段上的案件：{count} 件")
        assert f"所选路段上的案件：{count} 件" in page.inner_text("#squad-cases-title")
        assert _focused_on(page, segment)["points"] == count
    assert not page.failures and not page.console_errors
