"""On duty (geo/duty.py): an officer's roster rules on a day it has rows for them, else the config shifts;
the 离岗/越界 and device-silent warnings and the 在岗人数 KPI follow it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from alerts import rules
from geo.duty import duty_start
from geo.region import Region
from layers.base import LayerParams, Scope
from layers.queries.kpis import live_figures
from tests.alerts.conftest import NOW, World
from tests.layers.conftest import local


def _roster(world: World, code: str, start: dt.datetime, end: dt.datetime) -> None:
    world.conn.execute(
        text("INSERT INTO duty_roster (chief_code, duty_date, starts_at, ends_at) VALUES (:c, :d, :s, :e)"),
        {"c": code, "d": start.date(), "s": start, "e": end},
    )


def test_the_roster_decides_on_its_days_and_the_config_shifts_on_the_others(world: World, region: Region) -> None:
    db = world.conn
    world.seed.chief("JL002", "李四", "ZD01", [])
    _roster(world, "JL001", local(2026, 3, 10, 22, 0), local(2026, 3, 11, 6, 0))  # a night shift
    assert duty_start(db, "JL001", local(2026, 3, 10, 11, 30), region) is None  # rostered day, not in its period
    assert duty_start(db, "JL001", local(2026, 3, 10, 23, 30), region) == local(2026, 3, 10, 22, 0)
    assert duty_start(db, "JL001", local(2026, 3, 11, 5, 0), region) == local(2026, 3, 10, 22, 0)  # past midnight
    # no roster row: the config shifts (07-15, 15-23)
    assert duty_start(db, "JL002", local(2026, 3, 10, 11, 30), region) == local(2026, 3, 10, 7, 0)
    assert duty_start(db, "JL002", local(2026, 3, 10, 23, 30), region) is None
    assert duty_start(db, "JL001", local(2026, 3, 12, 16, 0), region) == local(2026, 3, 12, 15, 0)  # another day


def test_stationary_officers_are_warned_about_only_while_on_duty(world: World, region: Region) -> None:
    world.seed.chief("JL002", "李四", "ZD01", [])
    start = NOW - dt.timedelta(minutes=35)
    world.track("JL001", start, 35, 119.830, 28.900)  # still, outside the area, during the config shift
    world.track("JL002", start, 35, 119.830, 28.900)
    _roster(world, "JL001", local(2026, 3, 10, 14, 0), local(2026, 3, 11, 0, 30))  # JL001 starts at 14:00 today
    assert {f.subject_id for f in rules.officer_stationary(world.conn, NOW, region)} == {"JL002"}
    # late in the evening, off every config shift (07-15, 15-23): only the rostered officer is on duty
    late = local(2026, 3, 10, 23, 45)
    world.track("JL001", late - dt.timedelta(minutes=35), 35, 119.830, 28.900)
    world.track("JL002", late - dt.timedelta(minutes=35), 35, 119.830, 28.900)
    assert {f.subject_id for f in rules.officer_stationary(world.conn, late, region)} == {"JL001"}


def test_a_silent_device_is_warned_about_within_its_officers_duty(world: World, region: Region) -> None:
    world.seed.chief("JL002", "李四", "ZD01", [])
    world.track("JL001", local(2026, 3, 10, 5, 0), 60, 119.806, 28.900, step_m=30)  # last fix 06:00
    world.track("JL002", local(2026, 3, 10, 5, 0), 60, 119.806, 28.900, step_m=30)
    _roster(world, "JL001", local(2026, 3, 10, 5, 0), local(2026, 3, 10, 12, 0))
    at = local(2026, 3, 10, 6, 40)  # before the config's day shift: only the rostered officer is on duty
    assert {f.subject_id for f in rules.device_silent(world.conn, at, region)} == {"patrol:JL001"}
    # JL002's roster says the duty ended at 06:05: silent after that is not a warning
    _roster(world, "JL002", local(2026, 3, 10, 5, 0), local(2026, 3, 10, 6, 5))
    assert {f.subject_id for f in rules.device_silent(world.conn, at, region)} == {"patrol:JL001"}
    at = local(2026, 3, 11, 9, 0)  # the next day has no roster rows: the config shift counts for both
    world.track("JL001", local(2026, 3, 11, 7, 30), 30, 119.806, 28.900, step_m=30)
    world.track("JL002", local(2026, 3, 11, 7, 30), 30, 119.806, 28.900, step_m=30)
    assert {f.subject_id for f in rules.device_silent(world.conn, at, region)} == {"patrol:JL001", "patrol:JL002"}


def test_on_duty_count_takes_only_officers_on_duty(world: World, region: Region) -> None:
    world.seed.chief("JL002", "李四", "ZD01", [])
    for code in ("JL001", "JL002"):
        world.track(code, NOW - dt.timedelta(minutes=3), 3, 119.806, 28.900, step_m=30)
    params = LayerParams(scope=Scope.everything())
    assert live_figures(world.conn, params, NOW)["on_duty"] == 2  # both within the config's day shift
    _roster(world, "JL001", local(2026, 3, 10, 14, 0), local(2026, 3, 10, 22, 0))
    assert live_figures(world.conn, params, NOW)["on_duty"] == 1  # online, but its roster starts at 14:00
