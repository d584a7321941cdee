"""Each warning rule raises on a constructed situation and not on its near-miss; the table keeps one
open warning per rule and subject and resolves it when the condition clears."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import h3
from sqlalchemy import text
from sqlalchemy.engine import Connection

from alerts import rules
from alerts.store import acknowledge, history, open_warnings, sync
from geo.region import Region
from layers.base import Scope
from tests.alerts.conftest import NOW, World
from tests.layers.conftest import local


def _subjects(findings: list[rules.Finding]) -> dict[str, str]:
    return {f.subject_id: f.severity for f in findings}


def _open(db: Connection, rule: str) -> list[dict]:
    sql = "SELECT subject_id, status, severity FROM warnings WHERE rule = :r AND status <> 'resolved' ORDER BY 1"
    return [dict(r) for r in db.execute(text(sql), {"r": rule}).mappings()]


def test_case_arrival_near_and_over_the_limit_but_not_before_or_once_arrived(world: World, region: Region) -> None:
    s = world.seed
    s.case(
        119.801, 28.895, NOW - dt.timedelta(minutes=25), case_number="C-NEAR", category="占道经营", squad_code="ZD01"
    )
    s.case(119.801, 28.895, NOW - dt.timedelta(minutes=35), case_number="C-OVER", squad_code="ZD01")
    s.case(119.801, 28.895, NOW - dt.timedelta(minutes=23), case_number="C-EARLY")  # below 80 % of 30 min
    s.case(119.801, 28.895, NOW - dt.timedelta(minutes=40), case_number="C-ARRIVED", arrived_at=NOW)
    found = rules.case_arrival(world.conn, NOW, region)
    assert _subjects(found) == {"C-NEAR": "warning", "C-OVER": "critical"}
    assert all("C-" not in f.title for f in found)  # the wall shows titles: no case number in them


def test_a_warning_is_raised_once_and_resolves_when_the_case_is_handled(world: World, region: Region) -> None:
    db = world.conn
    world.seed.case(119.801, 28.895, NOW - dt.timedelta(minutes=31), case_number="C-1", squad_code="ZD01")
    first = sync(db, "case_arrival", rules.case_arrival(db, NOW, region), NOW)
    later = NOW + dt.timedelta(minutes=1)
    second = sync(db, "case_arrival", rules.case_arrival(db, later, region), later)
    assert (first.raised, second.raised, second.kept) == (1, 0, 1)
    assert _open(db, "case_arrival") == [{"subject_id": "C-1", "status": "new", "severity": "critical"}]
    db.execute(text("UPDATE cases SET arrived_at = :t WHERE case_number = 'C-1'"), {"t": later})
    third = sync(db, "case_arrival", rules.case_arrival(db, later, region), later)
    assert third.resolved == 1 and _open(db, "case_arrival") == []
    # the same subject can be raised again later: a new warning, the resolved one stays in the history
    db.execute(text("UPDATE cases SET arrived_at = NULL WHERE case_number = 'C-1'"))
    assert sync(db, "case_arrival", rules.case_arrival(db, later, region), later).raised == 1
    assert db.execute(text("SELECT count(*) FROM warnings WHERE subject_id = 'C-1'")).scalar_one() == 2


def test_case_due_near_or_past_while_open(world: World, region: Region) -> None:
    s = world.seed
    s.case(119.801, 28.895, NOW - dt.timedelta(days=3), case_number="D-SOON", due_at=NOW + dt.timedelta(hours=2))
    s.case(119.801, 28.895, NOW - dt.timedelta(days=3), case_number="D-PAST", due_at=NOW - dt.timedelta(hours=2))
    s.case(119.801, 28.895, NOW - dt.timedelta(days=3), case_number="D-LATER", due_at=NOW + dt.timedelta(hours=30))
    s.case(
        119.801,
        28.895,
        NOW - dt.timedelta(days=3),
        case_number="D-CLOSED",
        due_at=NOW,
        closed_at=NOW - dt.timedelta(hours=1),
    )
    assert _subjects(rules.case_due(world.conn, NOW, region)) == {"D-SOON": "warning", "D-PAST": "critical"}


def test_hot_segment_without_patrol_for_hours_and_resolved_once_patrolled(world: World, region: Region) -> None:
    db = world.conn
    for day in range(1, 6):
        world.seed.case(119.802, 28.895, NOW - dt.timedelta(days=day), segment_id=world.segment, squad_code="ZD01")
    found = rules.hot_unpatrolled(db, NOW, region)  # 4.5 h into the shift, never patrolled
    assert _subjects(found) == {str(world.segment): "warning"}  # the quiet street is not hot
    assert "解放街" in found[0].title
    sync(db, "hot_unpatrolled", found, NOW)
    # near-miss: 3.5 h into the shift is not yet 4 h without patrol
    assert rules.hot_unpatrolled(db, local(2026, 3, 10, 10, 30), region) == []
    world.seed.visit(world.segment, "patrol", "JL001", NOW - dt.timedelta(minutes=50), 10)
    later = NOW + dt.timedelta(minutes=1)
    assert rules.hot_unpatrolled(db, later, region) == []
    assert sync(db, "hot_unpatrolled", [], later).resolved == 1
    # off shift the rule does not apply
    assert rules.hot_unpatrolled(db, local(2026, 3, 10, 23, 30), region) == []


def test_officer_stationary_outside_the_station_or_the_area(world: World, region: Region) -> None:
    start = NOW - dt.timedelta(minutes=35)
    world.track("JL001", start, 35, 119.806, 28.900)  # still, ~700 m from the station, inside the area
    world.track("JL002", start, 35, 119.830, 28.900)  # still, outside ZD01's area (its squad is ZD01)
    world.track("JL003", start, 35, 119.806, 28.905, step_m=20)  # walking: not stationary
    world.track("JL004", start, 35, 119.8005, 28.8902)  # resting at the station
    world.track("JL005", NOW - dt.timedelta(minutes=20), 20, 119.806, 28.902)  # still, but only 20 minutes
    for code in ("JL002", "JL003", "JL004", "JL005"):
        world.seed.chief(code, "李四", "ZD01", [])
    found = rules.officer_stationary(world.conn, NOW, region)
    assert _subjects(found) == {"JL001": "warning", "JL002": "critical"}
    assert all("李" not in f.title and "张" not in f.title for f in found)  # no names in titles


def test_device_silent_during_the_shift(world: World, region: Region) -> None:
    world.track("JL001", local(2026, 3, 10, 8, 0), 60, 119.806, 28.900, step_m=30)  # last fix 09:00
    world.track("JL002", local(2026, 3, 10, 9, 0), 20, 119.806, 28.900, step_m=30)  # last fix 09:20
    at = local(2026, 3, 10, 9, 30)
    assert _subjects(rules.device_silent(world.conn, at, region)) == {"patrol:JL001": "warning"}
    assert rules.device_silent(world.conn, local(2026, 3, 10, 6, 30), region) == []  # off shift, no window


def test_route_not_started_by_its_scheduled_time(world: World, region: Region) -> None:
    db = world.conn
    assert rules.route_not_started(db, local(2026, 3, 10, 5, 20), region) == []  # within the grace
    assert _subjects(rules.route_not_started(db, local(2026, 3, 10, 5, 40), region)) == {"QS01": "warning"}
    assert rules.route_not_started(db, local(2026, 3, 10, 8, 0), region) == []  # the window is over
    world.seed.visit(world.segment, "sanitation", "浙G0001", local(2026, 3, 10, 5, 35), 3)
    assert rules.route_not_started(db, local(2026, 3, 10, 5, 40), region) == []


def test_emerging_hotspot_raises_on_a_new_hot_cell(world: World, region: Region) -> None:
    start = dt.date(2026, 1, 5)  # a Monday; 10 weeks to 2026-03-15
    centre = h3.latlng_to_cell(28.89, 119.80, 8)
    background = [c for c in h3.grid_disk(centre, 6) if h3.grid_distance(c, centre) >= 3]
    for week in range(10):
        day = start + dt.timedelta(days=7 * week + 2)
        for cell in background[::2]:
            la, lo = h3.cell_to_latlng(cell)
            world.seed.case(lo, la, local(day.year, day.month, day.day, 10))
        if week == 9:
            la, lo = h3.cell_to_latlng(centre)
            for _ in range(20):
                world.seed.case(lo, la, local(day.year, day.month, day.day, 11))
    ten_weeks = replace(region, warnings=replace(region.warnings, emerging_weeks=10))
    found = rules.emerging_hotspot(world.conn, local(2026, 3, 15, 12, 0), ten_weeks)
    assert centre in {f.subject_id for f in found}
    assert {f.squad_code for f in found if f.subject_id == centre} == {"ZD01"}
    rules.clear_caches()
    quiet = replace(ten_weeks, warnings=replace(ten_weeks.warnings, emerging_patterns=("persistent_hot",)))
    assert centre not in {f.subject_id for f in rules.emerging_hotspot(world.conn, local(2026, 3, 15, 12, 0), quiet)}


def test_acknowledge_within_scope_and_the_history(world: World, region: Region) -> None:
    db = world.conn
    world.seed.case(119.801, 28.895, NOW - dt.timedelta(minutes=40), case_number="C-A", squad_code="ZD01")
    sync(db, "case_arrival", rules.case_arrival(db, NOW, region), NOW)
    listed = open_warnings(db, Scope(squads=("ZD01",)))
    assert len(listed) == 1 and listed.loc[0, "status"] == "new"
    assert open_warnings(db, Scope(squads=("ZD02",))).empty
    wid = int(listed.loc[0, "id"])
    try:
        acknowledge(db, wid, "leader2", Scope(squads=("ZD02",)))
        raise AssertionError("another squad's leader acknowledged")
    except PermissionError:
        pass
    acknowledge(db, wid, "leader1", Scope(squads=("ZD01",)), now=NOW + dt.timedelta(minutes=6))
    assert open_warnings(db, Scope(squads=("ZD01",))).loc[0, "acknowledged_by"] == "leader1"
    past = history(db, "ZD01", NOW - dt.timedelta(days=30))
    assert past.loc[0, "raised"] == 1 and round(float(past.loc[0, "median_ack_min"])) == 6
    # a street chief sees the warnings on their streets
    assert open_warnings(db, Scope(squads=("ZD01",), chief_code="JL001")).empty  # the case has no segment
    db.execute(text("UPDATE warnings SET segment_id = :s"), {"s": world.segment})
    assert len(open_warnings(db, Scope(squads=("ZD01",), chief_code="JL001"))) == 1
