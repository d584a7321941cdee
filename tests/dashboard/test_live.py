"""The live picture in a real browser: a fix written to gps_fixes moves a marker on the open wall
without resetting the view; a new warning appears on the wall and the squad page, and the squad
leader acknowledges it there (with an audit entry)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import text

from alerts.evaluate import evaluate
from geo.db import get_engine
from geo.region import get_region
from tests.dashboard.conftest import map_state, wait_for_traces

pytestmark = pytest.mark.browser

POSITIONS = """(target) => {
    const gd = document.querySelector('#wall-map .js-plotly-plot');
    const t = gd && gd.data.find(d => d.meta && d.meta.layer === 'live_positions');
    if (!t) return false;
    return Array.from(t.lon).some((x, i) => Math.abs(x - target[0]) < 1e-6 && Math.abs(t.lat[i] - target[1]) < 1e-6);
}"""


def _inside_zd01(engine) -> tuple[float, float]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM jurisdictions "
                    "WHERE squad_code = 'ZD01' AND is_current LIMIT 1"
                )
            ).one()
        )


def test_a_new_fix_moves_the_marker_on_the_open_wall_and_the_view_stays(page_at, dash_url) -> None:
    engine = get_engine(dash_url[0])
    lon, lat = _inside_zd01(engine)
    target = (round(lon + 0.00123, 6), round(lat + 0.00045, 6))
    page = page_at("/wall")
    wait_for_traces(page, "wall-map", "live_positions", timeout_ms=60000)  # the first page of a loaded machine
    page.wait_for_load_state("networkidle")
    box = page.locator("#wall-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    for _ in range(3):  # zoom and pan first, as a person at the screen would
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(150)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5, steps=6)
    page.mouse.up()
    page.wait_for_timeout(800)
    moved = map_state(page, "wall-map")
    assert not page.evaluate(POSITIONS, list(target))
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom, source_crs) VALUES "
                    "('patrol', 'JL001', now(), ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'EPSG:4326')"
                ),
                {"x": target[0], "y": target[1]},
            )
        written = time.monotonic()
        page.wait_for_function(POSITIONS, arg=list(target), timeout=10000)  # on screen within 10 s
        latency = time.monotonic() - written
        state = map_state(page, "wall-map")
        assert state["zoom"] == pytest.approx(moved["zoom"], abs=1e-6)
        assert state["center"]["lon"] == pytest.approx(moved["center"]["lon"], abs=1e-6)
        assert state["center"]["lat"] == pytest.approx(moved["center"]["lat"], abs=1e-6)
        assert any(t["meta"] and t["meta"]["layer"] == "hotspots" for t in state["traces"])  # the rest stays
        assert latency < 10
        assert not page.console_errors
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM gps_fixes WHERE subject_id = 'JL001' AND ts > now() - interval '1 hour'"))


def test_a_new_warning_shows_on_the_wall_and_is_acknowledged_on_the_squad_page(page_at, dash_url, screenshots) -> None:
    engine = get_engine(dash_url[0])
    lon, lat = _inside_zd01(engine)
    wall = page_at("/wall")
    wait_for_traces(wall, "wall-map", "live_warnings", timeout_ms=60000)
    wall.wait_for_load_state("networkidle")  # the first full refresh is done: what follows is the live path
    assert "未到场" not in wall.inner_text("#wall-warnings")
    received = dt.datetime.now(get_region().tz) - dt.timedelta(minutes=45)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO cases (case_number, category, squad_code, received_at, geom, geocode_level) VALUES "
                    "('LIVE-0001', '占道经营', 'ZD01', :t, ST_SetSRID(ST_MakePoint(:x, :y), 4326), '门牌')"
                ),
                {"t": received, "x": lon, "y": lat},
            )
        report = evaluate(engine, rules=["case_arrival"])
        assert report.results["case_arrival"].raised >= 1 and not report.errors
        wall.wait_for_function(
            "() => document.querySelector('#wall-warnings').innerText.includes('未到场')", timeout=20000
        )
        wall.wait_for_function(
            """() => { const gd = document.querySelector('#wall-map .js-plotly-plot');
                const t = gd.data.find(d => d.meta && d.meta.layer === 'live_warnings');
                return t && t.lon.length >= 1; }""",
            timeout=20000,
        )
        wall.screenshot(path=str(screenshots / "wall_live_warning.png"))
        assert "LIVE-0001" not in wall.content()  # the wall shows no case number
        squad = page_at("/squad/ZD01", user="leader1")
        row = squad.locator("#squad-warn-grid .ag-row", has_text="未到场").first
        row.wait_for(timeout=20000)
        row.click()
        squad.click("#squad-warn-ack")
        squad.wait_for_function(
            "() => document.querySelector('#squad-warn-msg').innerText.includes('已确认')", timeout=10000
        )
        squad.locator("#squad-warn-grid .ag-row", has_text="leader1").first.wait_for(timeout=10000)
        squad.screenshot(path=str(screenshots / "squad_warnings.png"))
        with engine.connect() as conn:
            status, by = conn.execute(
                text("SELECT status, acknowledged_by FROM warnings WHERE subject_id = 'LIVE-0001'")
            ).one()
            audited = conn.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'warning_acknowledged' AND username = 'leader1'")
            ).scalar_one()
        assert (status, by, audited) == ("acknowledged", "leader1", 1)
        # resolves by itself once the case is arrived at
        with engine.begin() as conn:
            conn.execute(text("UPDATE cases SET arrived_at = now() WHERE case_number = 'LIVE-0001'"))
        assert evaluate(engine, rules=["case_arrival"]).results["case_arrival"].resolved >= 1
        wall.wait_for_function(
            "() => !document.querySelector('#wall-warnings').innerText.includes('未到场')", timeout=20000
        )
        assert not wall.console_errors and not squad.console_errors
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM warnings"))
            conn.execute(text("DELETE FROM cases WHERE case_number = 'LIVE-0001'"))
