"""The squad leader page in a real browser: layers drawn, filters change the map, clicks drill down, Excel export."""

from __future__ import annotations

import datetime as dt

import h3
import openpyxl
import pytest
from sqlalchemy import text

from bench._browser import choose
from bench._seed import PARTY_NAME
from geo.db import get_engine
from geo.region import get_region
from tests.dashboard.conftest import click_map_until, map_state

pytestmark = pytest.mark.browser


def _window(engine) -> tuple[dt.date, dt.date]:
    """The page's default window: 90 days ending on the newest case's local day."""
    tz = get_region().tz
    with engine.connect() as conn:
        newest = conn.execute(text("SELECT max(received_at) FROM cases")).scalar_one()
    end = newest.astimezone(tz).date()
    return end - dt.timedelta(days=89), end


def _count(engine, where: str, **binds) -> int:
    start, end = _window(engine)
    sql = f"""SELECT count(*) FROM cases WHERE squad_code = 'ZD01'
              AND (received_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN :start AND :end AND {where}"""
    with engine.connect() as conn:
        return conn.execute(text(sql), {"start": start, "end": end, **binds}).scalar_one()


def _hotspot_cells(page) -> list[tuple[str, int]]:
    return page.evaluate(
        """() => { const gd = document.querySelector('#squad-map .js-plotly-plot');
            const t = gd._fullData.find(t => t.meta && t.meta.layer === 'hotspots');
            return Array.from(t.locations).map((c, i) => [c, t.customdata[i][0]]); }"""
    )


def test_squad_page_draws_its_layers_and_ranks_the_hot_unpatrolled_street(squad_page, screenshots) -> None:
    page = squad_page
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "squad_1920x1080.png"))
    state = map_state(page, "squad-map")
    assert state["canvas"]
    layers = {t["meta"]["layer"] for t in state["traces"] if t["meta"]}
    assert {"jurisdictions", "hotspots", "patrol_coverage", "underpatrolled"} <= layers
    first = page.locator("#squad-ranked .ag-row[row-index='0']")
    assert "解放街" in first.inner_text()  # 100 cases, never patrolled in the window
    bars = page.evaluate("document.querySelector('#squad-response .js-plotly-plot').data.length")
    assert bars >= 1
    assert not page.failures and not page.console_errors


def _case_points(page) -> int:
    return page.evaluate(
        """() => document.querySelector('#squad-map .js-plotly-plot')._fullData
            .filter(t => t.meta && t.meta.layer === 'cases').reduce((s, t) => s + (t.lon || []).length, 0)"""
    )


def test_a_procedure_filter_changes_what_the_map_shows(squad_page) -> None:
    page = squad_page
    engine = get_engine()
    page.get_by_text("案件点位", exact=True).click()  # draw the cases as points too
    located_all = _count(engine, "geom IS NOT NULL")
    page.wait_for_function("(n) => " + _CASE_POINTS_JS + " === n", arg=located_all, timeout=20000)
    choose(page, "squad-procedure", "投诉举报")
    expected = _count(engine, "geom IS NOT NULL AND procedure_type = '投诉举报'")
    assert 0 < expected < located_all
    page.wait_for_function("(n) => " + _CASE_POINTS_JS + " === n", arg=expected, timeout=20000)
    assert _case_points(page) == expected
    total = _count(engine, "procedure_type = '投诉举报'")
    assert f"案件 {total} 件" in page.inner_text("#squad-summary")
    assert not page.failures and not page.console_errors


_CASE_POINTS_JS = """document.querySelector('#squad-map .js-plotly-plot')._fullData
    .filter(t => t.meta && t.meta.layer === 'cases').reduce((s, t) => s + (t.lon || []).length, 0)"""


def test_choosing_a_ranked_street_lists_its_cases_and_exports_them(squad_page, seeded, tmp_path) -> None:
    page = squad_page
    engine = get_engine()
    expected = _count(engine, "near_segment_id = :s", s=seeded.hot_segment)
    page.locator("#squad-ranked .ag-row[row-index='0']").click()
    page.wait_for_function(
        "(n) => document.querySelector('#squad-cases-title').innerText.includes('所选路段上的案件：' + n + ' 件')",
        arg=expected,
        timeout=20000,
    )
    with engine.connect() as conn:
        numbers = set(
            conn.execute(
                text("SELECT case_number FROM cases WHERE near_segment_id = :s"), {"s": seeded.hot_segment}
            ).scalars()
        )
    shown = page.locator("#squad-cases .ag-row [col-id='case_number']").all_inner_texts()
    assert shown and set(shown) <= numbers
    assert page.evaluate("dash_ag_grid.getApi('squad-cases').getDisplayedRowCount()") == expected

    with page.expect_download() as download:
        page.click("#squad-export-cases")
    path = tmp_path / "cases.xlsx"
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == expected
    assert {r[header.index("案件编号")] for r in body} <= numbers
    parties = {r[header.index("当事人")] for r in body}
    assert parties == {PARTY_NAME}  # an admin's role needs the parties' names; the export is audited
    with engine.connect() as conn:
        exports = (
            conn.execute(
                text(
                    "SELECT detail FROM audit_log WHERE username = 'admin' AND action = 'export' "
                    "AND target LIKE 'ZD01_%'"
                )
            )
            .scalars()
            .all()
        )
    assert exports and exports[-1] == {"案件": expected}


def test_clicking_a_hotspot_cell_lists_the_cases_in_it(squad_page) -> None:
    page = squad_page
    cell, count = max(_hotspot_cells(page), key=lambda c: c[1])
    lat, lon = h3.cell_to_latlng(cell)
    expected = f"所选网格内的案件：{count} 件"
    click_map_until(page, "squad-map", lon, lat, "squad-cases-title", expected)
    assert expected in page.inner_text("#squad-cases-title")
    assert page.evaluate("dash_ag_grid.getApi('squad-cases').getDisplayedRowCount()") == count
