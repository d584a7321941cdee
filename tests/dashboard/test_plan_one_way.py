"""The plan page names the streets a route cannot leave again (a one-way trap) where it says what was left out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from geo.db import get_engine
from tests.dashboard.conftest import watch_callbacks

pytestmark = pytest.mark.browser

D = 0.0008  # about 80 m
DIRECTIONS = [(1, 1), (-1, 1), (1, -1), (-1, -1), (1, 0), (0, 1), (-1, 0), (0, -1)]


def _free_triangle(conn) -> tuple[tuple[float, float], list[tuple[float, float]]]:
    """A street end of ZD01 near its station and a triangle beside it that touches no other street."""
    ends = conn.execute(
        text(
            """SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_StartPoint(s.geom) AS p FROM street_segments s
               JOIN squads q ON q.code = s.squad_code WHERE s.squad_code = 'ZD01'
               ORDER BY ST_StartPoint(s.geom) <-> q.station LIMIT 20) e"""
        )
    ).all()
    for x, y in ends:
        for dx, dy in DIRECTIONS:
            a = (x + dx * D, y + dy * D)
            b = (x + dx * 2 * D, y + dy * 2 * D - dx * D / 2)
            c = (x + dx * 2 * D - dy * D / 2, y + dy * 2 * D)
            near = (x + dx * D * 0.1, y + dy * D * 0.1)  # the shape without its touching end
            wkt = "LINESTRING(" + ", ".join(f"{p[0]} {p[1]}" for p in (near, a, b, c, a)) + ")"
            hit = conn.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM street_segments"
                    " WHERE ST_DWithin(geom, ST_GeomFromText(:w, 4326), 0.0001))"
                ),
                {"w": wkt},
            ).scalar_one()
            if not hit:
                return (x, y), [a, b, c]
    pytest.skip("no free place for a one-way loop next to ZD01's station")


@pytest.fixture
def trap(seeded) -> Iterator[list[int]]:
    """A one-way street from ZD01's network into a one-way triangle with no way out; recent cases on it."""
    engine = get_engine()
    with engine.begin() as conn:
        start, (a, b, c) = _free_triangle(conn)
        ids = []
        for key, name, (p, q) in [
            ("TRAP_IN", "陷阱入口路", (start, a)),
            ("TRAP_1", "陷阱环一路", (a, b)),
            ("TRAP_2", "陷阱环二路", (b, c)),
            ("TRAP_3", "陷阱环三路", (c, a)),
        ]:
            ids.append(
                conn.execute(
                    text(
                        """INSERT INTO street_segments (segment_key, name, squad_code, oneway, geom, length_m)
                           VALUES (:k, :n, 'ZD01', 'FT', ST_SetSRID(ST_MakeLine(ST_MakePoint(:x0, :y0),
                                   ST_MakePoint(:x1, :y1)), 4326), 0) RETURNING id"""
                    ),
                    {"k": key, "n": name, "x0": p[0], "y0": p[1], "x1": q[0], "y1": q[1]},
                ).scalar_one()
            )
        conn.execute(
            text("UPDATE street_segments SET length_m = ST_Length(geom::geography) WHERE id = ANY(:i)"), {"i": ids}
        )
        received = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        for k, sid in enumerate(ids * 5):
            conn.execute(
                text(
                    """INSERT INTO cases (case_number, squad_code, segment_id, near_segment_id, geom, geocode_level,
                                          received_at, status)
                       SELECT :n, 'ZD01', s.id, s.id, ST_LineInterpolatePoint(s.geom, 0.5), '门牌', :r, '办理中'
                       FROM street_segments s WHERE s.id = :s"""
                ),
                {"n": f"TRAP-{k:03d}", "r": received, "s": sid},
            )
    try:
        yield ids
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM cases WHERE case_number LIKE 'TRAP-%'"))
            conn.execute(text("DELETE FROM street_segments WHERE id = ANY(:i)"), {"i": ids})


def test_plan_page_names_the_one_way_trap_it_left_out(page_at, trap, screenshots) -> None:
    page = page_at("/plan/ZD01", user="leader1")
    failures = watch_callbacks(page)
    page.wait_for_selector("#plan-make", timeout=20000)
    page.click("#plan-make")
    page.locator("#plan-summary", has_text="版").wait_for(timeout=60000)
    notes = page.locator("#plan-messages", has_text="单行道")
    notes.wait_for(timeout=10000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(screenshots / "plan_one_way_trap.png"), full_page=True)
    said = notes.inner_text()
    assert "陷阱入口路" in said and "进入后无法返回" in said
    stops = page.evaluate("dash_ag_grid.getApi('plan-stops').getRenderedNodes().map(n => n.data.segment_id)")
    assert stops and not set(stops) & set(trap), "the plan is usable and keeps out of the trap"
    assert not failures and not page.console_errors
