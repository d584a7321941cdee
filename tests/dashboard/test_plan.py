"""Patrol planning in the browser: ZD01's leader makes, adjusts and approves a plan; chief JL001 sees it
on a phone-sized page and downloads the GPX."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from dashboard.basemap import MAP_FONT
from geo.db import get_engine
from tests.dashboard.conftest import watch_callbacks

pytestmark = pytest.mark.browser


def _stops(page) -> list[dict]:
    return page.evaluate("dash_ag_grid.getApi('plan-stops').getRenderedNodes().map(n => n.data)")


STOP_NUMBERS_JS = """graph => {
    const gd = document.querySelector(graph + ' .js-plotly-plot');
    const map = gd._fullLayout.map._subplot.map;
    return gd._fullData.filter(t => t.meta && t.meta.layer === 'plan_stop_numbers').map(t => {
        const layer = 'plotly-trace-layer-' + t.uid + '-symbol';
        const shown = map.getLayer(layer) ? map.queryRenderedFeatures({layers: [layer]}) : [];
        return {text: Array.from(t.text), colour: t.textfont.color, font: map.getLayoutProperty(layer, 'text-font'),
                rendered: shown.map(f => f.properties.text)};
    });
}"""


def _stop_numbers(page, graph: str) -> list[dict]:
    """Per route: the numbers trace's text, colour and font, and what MapLibre rendered of it."""
    return page.evaluate(STOP_NUMBERS_JS, graph)


def _assert_numbered(numbers: list[dict], colours: list[str], stops: int) -> None:
    """Each route's stops carry 1, 2, 3 … in visiting order, in the route's colour and the app's map
    font, and MapLibre drew every one of them."""
    assert [n["colour"] for n in numbers] == colours
    assert sum(len(n["text"]) for n in numbers) == stops
    for n in numbers:
        assert n["text"] == [str(i) for i in range(1, len(n["text"]) + 1)]
        assert n["font"] == [MAP_FONT]
        assert sorted(set(n["rendered"]), key=int) == n["text"], "every stop number is drawn on the map"


def test_leader_makes_adjusts_and_approves_and_the_chief_gets_it(page_at, seeded, screenshots) -> None:
    page = page_at("/plan/ZD01", user="leader1")
    failures = watch_callbacks(page)
    page.wait_for_selector("#plan-make", timeout=20000)
    page.click("#plan-make")
    page.locator("#plan-summary", has_text="第 1 版").wait_for(timeout=60000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "plan_made.png"))
    page.locator("#plan-map").screenshot(path=str(screenshots / "plan_map_stop_numbers.png"))
    stops = _stops(page)
    assert stops, "the plan has stops"
    routes = page.evaluate(
        "document.querySelector('#plan-map .js-plotly-plot')._fullData"
        ".filter(t => t.meta && t.meta.layer === 'plan_route').map(t => t.line.color)"
    )
    assert routes and len(set(routes)) == len(routes), "one colour per chief's route"
    _assert_numbered(_stop_numbers(page, "#plan-map"), routes, len(stops))

    dropped = stops[0]
    page.locator("#plan-stops .ag-row").first.click()
    page.click("#plan-drop")
    page.locator("#plan-summary", has_text="第 2 版").wait_for(timeout=60000)
    assert dropped["segment_id"] not in [s["segment_id"] for s in _stops(page)]

    page.click("#plan-approve")
    page.locator("#plan-approved", has_text="已批准").wait_for(timeout=30000)
    assert "第 2 版" in page.inner_text("#plan-approved") and "leader1" in page.inner_text("#plan-approved")
    page.screenshot(path=str(screenshots / "plan_approved.png"), full_page=True)
    with get_engine().connect() as conn:
        approved = conn.execute(
            text(
                """SELECT v.version, v.author, v.approved_by FROM patrol_plan_versions v
                   JOIN patrol_plans p ON p.id = v.plan_id
                   WHERE p.squad_code = 'ZD01' AND v.approved_at IS NOT NULL ORDER BY v.approved_at DESC LIMIT 1"""
            )
        ).one()
        audited = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'plan_approve'")).scalar_one()
        jl001 = conn.execute(
            text(
                """SELECT count(*) FROM patrol_plan_stops s JOIN patrol_plan_versions v ON v.id = s.version_id
                   WHERE v.approved_at IS NOT NULL AND s.chief_code = 'JL001'"""
            )
        ).scalar_one()
    assert tuple(approved) == (2, "leader1", "leader1") and audited >= 1
    assert not failures and not page.console_errors

    if not jl001:
        pytest.skip("the approved plan gave JL001 no stop")
    phone = page_at("/street/JL001", width=390, height=844, user="chief1")
    phone.wait_for_selector(".task-stops .task-stop", timeout=30000)
    phone.wait_for_timeout(1500)
    phone.screenshot(path=str(screenshots / "street_task_390x844.png"), full_page=True)
    assert phone.locator(".task-stops .task-stop").count() == jl001
    phone.locator(".task-map").screenshot(path=str(screenshots / "street_task_map_stop_numbers.png"))
    chief_numbers = _stop_numbers(phone, ".task-map")
    _assert_numbered(chief_numbers, [chief_numbers[0]["colour"]], jl001)
    assert "未巡查" in phone.inner_text(".task-stops")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    with phone.expect_download(timeout=30000) as download:
        phone.click("#street-task-gpx")
    gpx = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith(".gpx")
    assert gpx.count("<wpt") == jl001 and "<trkpt" in gpx
    assert not phone.console_errors


def test_another_squads_leader_cannot_plan(page_at, seeded) -> None:
    page = page_at("/plan/ZD01", user="leader2")
    page.wait_for_selector(".page-error", timeout=20000)
    assert "无权" in page.inner_text(".page-error")
    assert page.locator("#plan-make").count() == 0
