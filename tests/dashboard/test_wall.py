"""The wall display in a real browser: figures, map layers, no personal data, refresh keeps the view."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from bench._seed import COMPLAINANT_NAME, COMPLAINANT_PHONE, PARTY_NAME, PARTY_PHONE
from geo.db import get_engine
from geo.settings import PROJECT_ROOT
from tests.dashboard.conftest import (
    callback_bodies,
    county_on_screen,
    map_state,
    sign_in,
    wait_for_traces,
    watch_callbacks,
)

pytestmark = pytest.mark.browser
PLANTED = (PARTY_NAME, PARTY_PHONE, COMPLAINANT_NAME, COMPLAINANT_PHONE)


def test_wall_shows_the_figures_and_the_county_map_without_personal_data(page_at, seeded, screenshots) -> None:
    page = page_at("/wall")
    failures = watch_callbacks(page)
    bodies = callback_bodies(page)
    page.reload()
    page.wait_for_selector("#wall-ranking .rank-row", timeout=20000)
    state = wait_for_traces(page, "wall-map", "response_times")
    page.wait_for_timeout(1500)  # let MapLibre paint before the screenshot
    page.screenshot(path=str(screenshots / "wall_1920x1080.png"))

    assert state["canvas"]
    squads = [t for t in state["traces"] if t["meta"] and t["meta"]["layer"] == "response_times"]
    assert squads and squads[0]["n"] == 13  # all 13 squads coloured
    assert any(t["meta"] and t["meta"]["layer"] == "hotspots" and t["n"] > 0 for t in state["traces"])
    kpis = page.inner_text("#wall-kpis")
    from layers.base import LayerParams, Scope
    from layers.queries.kpis import counts as kpi_counts
    from layers.queries.kpis import summarise

    with get_engine().connect() as conn:  # the same period last year moves with today's date
        figures = summarise(kpi_counts(conn, LayerParams(scope=Scope(aggregates_only=True))))
    assert figures["cases_last_year"] > 0
    assert "300" in kpis and f"去年同期 {figures['cases_last_year']}" in kpis  # the seed: 300 cases this year
    assert len(page.query_selector_all("#wall-ranking .rank-row")) == 13
    with get_engine().connect() as conn:  # the seed's slow squad is ZD03 (its name follows the townships)
        slow = conn.execute(text("SELECT name FROM squads WHERE code = 'ZD03'")).scalar_one()
    assert slow in page.inner_text("#wall-ranking .rank-row.resp-bad")
    assert "数据截至" in page.inner_text("#wall-stamp")
    assert "白洋中队" in page.inner_text("#wall-rotation")
    assert not failures and not page.console_errors
    assert bodies
    for content in [page.content(), *bodies]:
        for planted in PLANTED:
            assert planted not in content


def test_wall_at_4k_uses_the_whole_screen(page_at, seeded, screenshots) -> None:
    page = page_at("/wall", width=3840, height=2160)
    page.wait_for_selector("#wall-ranking .rank-row", timeout=20000)
    wait_for_traces(page, "wall-map", "response_times")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "wall_3840x2160.png"))
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.kpi-value')).fontSize)")
    assert size > 70  # scales with the screen (about 42 px at 1080 lines)
    overflow = page.evaluate("document.documentElement.scrollHeight - window.innerHeight")
    assert overflow <= 0
    page.wait_for_function(
        "() => document.querySelector('#wall-map .js-plotly-plot')._fullLayout.map.zoom > 10.5", timeout=40000
    )  # the county is fitted to the bigger screen (about one zoom level more than at 1080 lines)


_SHOWN_VIEW = """() => { const m = document.querySelector('#wall-map .js-plotly-plot')._fullLayout.map._subplot.map;
    return {zoom: m.getZoom(), center: {lon: m.getCenter().lng, lat: m.getCenter().lat}}; }"""


def test_refresh_keeps_the_view_the_user_set(page_at, seeded) -> None:
    """What MapLibre shows (plotly's layout records a drag-only pan late, the screen is what counts)."""
    page = page_at("/wall?refresh=2&rotate=2")
    wait_for_traces(page, "wall-map", "hotspots")
    page.wait_for_timeout(1500)  # the first refresh (the screen's scale) has landed
    start = page.evaluate(_SHOWN_VIEW)
    box = page.locator("#wall-map").bounding_box()
    for _attempt in range(3):  # a drag that lands on a refresh's redraw of the map is lost: drag again
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
        page.mouse.down()  # drag, as a person at the screen would (the wheel does not zoom the kiosk's map)
        page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5, steps=8)
        page.wait_for_timeout(400)  # held still before release: no inertia glide (plotly records the view on release)
        page.mouse.up()
        page.wait_for_timeout(1000)
        moved = page.evaluate(_SHOWN_VIEW)
        if abs(moved["center"]["lon"] - start["center"]["lon"]) > 1e-3:
            break
    assert abs(moved["center"]["lon"] - start["center"]["lon"]) > 1e-3
    before = page.inner_text("#wall-stamp")
    rotation_before = page.inner_text("#wall-rotation .rotation-name")
    page.wait_for_function("(s) => document.querySelector('#wall-stamp').innerText !== s", arg=before, timeout=15000)
    page.wait_for_timeout(2500)  # at least one more tick after the first change
    state = page.evaluate(_SHOWN_VIEW)
    assert state["zoom"] == pytest.approx(moved["zoom"], abs=1e-6)
    assert state["center"]["lon"] == pytest.approx(moved["center"]["lon"], abs=1e-6)
    assert state["center"]["lat"] == pytest.approx(moved["center"]["lat"], abs=1e-6)
    assert any(t["meta"] and t["meta"]["layer"] == "hotspots" for t in map_state(page, "wall-map")["traces"])
    page.wait_for_function(  # the rotation moves on (its 2 s tick may lag on a loaded machine)
        "(s) => document.querySelector('#wall-rotation .rotation-name').innerText !== s",
        arg=rotation_before,
        timeout=15000,
    )
    assert not page.console_errors


def test_database_outage_shows_a_warning_keeps_the_figures_and_recovers(browser, dash_url, tmp_path) -> None:
    """The real entry point (``python -m dashboard``) behind a proxy that the test cuts and restores."""
    import subprocess
    import sys
    import time
    import urllib.request

    from bench._browser import free_port
    from tests.dashboard.pgproxy import SocketProxy

    url, _ = dash_url
    if "host" not in url.query:
        pytest.skip("the outage proxy needs a unix-socket database URL (the embedded cluster)")
    host, port = url.query["host"], int(url.query.get("port") or url.port or 5432)
    folder = tmp_path / "sock"
    folder.mkdir()
    proxy = SocketProxy(Path(host) / f".s.PGSQL.{port}", folder, port)
    proxy.restore()
    web_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url.update_query_dict({"host": str(folder)}).render_as_string(hide_password=False),
        "EGIS_DASH_PORT": str(web_port),
        "EGIS_DASH_CACHE_S": "1",  # the outage must show within a refresh, not after the cache expires
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboard"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{web_port}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("dashboard did not start") from None
                time.sleep(0.5)
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        failures = watch_callbacks(page)
        sign_in(page, f"http://127.0.0.1:{web_port}", "kiosk")
        page.goto(f"http://127.0.0.1:{web_port}/wall?refresh=2")
        page.wait_for_selector("#wall-ranking .rank-row", timeout=30000)
        wait_for_traces(page, "wall-map", "response_times")
        kpis = page.inner_text("#wall-kpis")

        proxy.cut()
        page.wait_for_function(
            "() => document.querySelector('#wall-warning').innerText.includes('数据库')", timeout=30000
        )
        warning = page.locator("#wall-warning")
        assert warning.is_visible()
        assert "正在显示" in warning.inner_text()
        assert page.inner_text("#wall-kpis") == kpis  # the last good figures stay
        assert any(t["meta"] and t["meta"]["layer"] == "response_times" for t in map_state(page, "wall-map")["traces"])

        proxy.restore()
        page.wait_for_function(
            "() => !document.querySelector('#wall-warning').innerText.includes('数据库')", timeout=30000
        )
        assert page.inner_text("#wall-kpis") == kpis
        assert not failures and not errors  # no callback ever failed with a server error
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        proxy.cut()


def _county_fits(view: dict) -> bool:
    """The county's bounds lie inside the map and, where the map draws a colour bar, left of it or above it."""
    bar = view["bar"]
    return view["inside"] and (bar is None or max(view["xs"]) <= bar["left"] or max(view["ys"]) <= bar["top"])


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 768), (1920, 1080)])
def test_the_county_fits_the_map_beside_its_colour_scale_on_any_screen(
    page_at, seeded, screenshots, width: int, height: int
) -> None:
    page = page_at("/wall", width=width, height=height)
    wait_for_traces(page, "wall-map", "response_times")
    for _ in range(40):  # the county is fitted once the page has measured its map (one refresh)
        view = county_on_screen(page, "wall-map")
        if _county_fits(view):
            break
        page.wait_for_timeout(500)
    page.screenshot(path=str(screenshots / f"wall_fit_{width}x{height}.png"))
    assert _county_fits(view), view
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
    portrait = width < 900
    assert view["width"] >= (0.9 * width if portrait else 0.4 * width)  # a phone: the map takes the full width
    # a phone's map has no room for a colour bar beside the county: the scale is in the legend instead
    legend_scale = page.query_selector("#wall-legend .legend-gradient") is not None
    assert (view["bar"] is None) == portrait and legend_scale == portrait
    assert view["span"] > 0.6, view  # the county uses the map: most of its width or its height
