"""Every dashboard / warning query on gps_fixes reads only the day partitions of its window.

Fixes on every day of five months are moved into their day partitions (the maintenance), then the
real queries are captured while the real functions run, and each is EXPLAIN ANALYZEd with its real
parameters, as a custom plan and as a prepared generic plan: no partition outside the window (nor the
default partition) may be scanned.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import Connection

from alerts.rules import device_silent, officer_stationary
from alerts.store import change_token
from geo.partitions import gps_partitions, run_gps_maintenance, scanned_partitions
from geo.region import get_region
from layers.base import LayerParams, Scope
from layers.queries.kpis import live_figures
from layers.queries.live import live_frames
from tests.alerts.conftest import NOW, STATION, World

UTC = dt.UTC


def _explain(conn: Connection, statement: str, params: dict[str, Any], generic: bool) -> set[str]:
    if not generic:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params or None).scalar_one()
        return scanned_partitions(plan)
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", number, statement).replace("%%", "%")
    raw = conn.connection.dbapi_connection
    args = ", ".join(sql.Literal(params[n]).as_string(raw) for n in names)
    conn.exec_driver_sql("DEALLOCATE ALL")
    conn.exec_driver_sql(f"PREPARE pruning_check AS {prepared}")
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    try:
        execute = f"EXECUTE pruning_check({args})" if names else "EXECUTE pruning_check"
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {execute}").scalar_one()
    finally:
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = auto")
        conn.exec_driver_sql("DEALLOCATE pruning_check")
    return scanned_partitions(plan)


def _day(partition: str) -> dt.date:
    return dt.datetime.strptime(partition.removeprefix("gps_fixes_p"), "%Y_%m_%d").date()


def _window(params: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    times = [v for v in params.values() if isinstance(v, dt.datetime)]
    if not times:  # now() in the statement
        now = dt.datetime.now(UTC)
        return now - dt.timedelta(days=1), now + dt.timedelta(hours=1)
    return min(times) - dt.timedelta(hours=1), max(times)


def test_queries_scan_only_the_partitions_of_their_window(world: World) -> None:
    conn = world.conn
    day = dt.datetime(2026, 1, 1, 2, 13, 7, tzinfo=UTC)
    while day < dt.datetime(2026, 6, 1, tzinfo=UTC):
        world.fix("patrol", "JL001", day, *STATION)
        world.fix("sanitation", "浙G0001", day, *STATION)
        day += dt.timedelta(days=1)
    for minutes in range(0, 120, 5):  # on shift, around NOW
        world.fix("patrol", "JL001", NOW - dt.timedelta(minutes=minutes), *STATION)
    world.fix(
        "patrol", "JL001", dt.datetime.now(UTC) - dt.timedelta(hours=23, minutes=59), *STATION
    )  # the window start's partition
    report = run_gps_maintenance(conn, retention_days=10_000)
    assert report.default_rows == 0 and report.moved_from_default >= 151
    assert len(gps_partitions(conn)) > 150

    captured: list[tuple[str, dict[str, Any]]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if "gps_fixes" in statement:
            captured.append((statement, dict(parameters or {})))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        region = get_region()
        frames = live_frames(conn, Scope(), NOW, names=True)
        figures = live_figures(conn, LayerParams(scope=Scope()), NOW)
        officer_stationary(conn, NOW, region)
        device_silent(conn, NOW, region)
        change_token(conn)
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    assert "JL001" in set(frames["positions"]["subject_id"]) and figures["on_duty"] == 1  # the queries found the fixes
    assert len(captured) >= 5

    for statement, params in captured:
        lo, hi = _window(params)
        for generic in (False, True):
            scanned = _explain(conn, statement, params, generic)
            outside = {
                p
                for p in scanned
                if p.endswith("_default")
                or not (
                    dt.datetime.combine(_day(p), dt.time(), UTC) <= hi
                    and dt.datetime.combine(_day(p) + dt.timedelta(days=1), dt.time(), UTC) > lo
                )
            }
            assert not outside, (statement, "generic" if generic else "custom", sorted(outside))
            assert len(scanned) <= 3, (statement, sorted(scanned))
