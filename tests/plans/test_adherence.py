"""Adherence on the grid: a stored, approved plan against planted GPS visits, and the plan read back for GPX."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Connection

from plans.adherence import adherence, shift_window, stop_states, weekly
from plans.export import to_gpx
from plans.planner import PlanRequest, make_plan
from plans.prizes import Weights
from plans.store import approve, approved_plans, chief_task, load_plan, save_plan
from tests.layers.conftest import Seed

from .conftest import PLAN_DATE, STEP, X0, Y0, Grid, open_case

RETURNS_ONLY = Weights(hot=0, cases=0, under=0, returns=1, sanitation=0, warnings=0)


def _approved(db: Connection, grid: Grid, seed: Seed):
    for i, sid in enumerate(grid.ns):
        open_case(seed, sid, X0 + STEP * i, Y0 + STEP * 2, n=1 + i % 3)
    request = PlanRequest(squad="ZT01", date=PLAN_DATE, minutes=25, weights=RETURNS_ONLY, time_limit_s=1.0)
    plan = make_plan(db, request)
    plan_id, version = save_plan(db, plan, author="leader")
    approve(db, plan_id, version, "leader")
    return plan, plan_id, version


def test_adherence_counts_visited_stops_time_on_plan_and_detours(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    plan, plan_id, version = _approved(db, grid, grid_seed)
    route = next(r for r in plan.routes if len(r.stops) >= 2)
    first, second = route.stops[0], route.stops[1]
    start, end = shift_window(PLAN_DATE, "day")
    grid_seed.visit(first.segment_id, "patrol", route.chief_code, start + dt.timedelta(minutes=5), 4.0)
    grid_seed.visit(first.segment_id, "patrol", route.chief_code, start + dt.timedelta(minutes=30), 2.0)
    grid_seed.visit(grid.spur, "patrol", route.chief_code, start + dt.timedelta(minutes=40), 3.0)  # off plan
    grid_seed.visit(second.segment_id, "patrol", route.chief_code, end + dt.timedelta(hours=1), 9.0)  # after shift
    grid_seed.visit(second.segment_id, "patrol", "SOMEONE", start + dt.timedelta(minutes=9), 9.0)  # another subject

    table = adherence(db, plan_id, version).set_index("chief_code")
    mine = table.loc[route.chief_code]
    assert mine["planned"] == len(route.stops)
    assert mine["visited"] == 1
    assert mine["visited_share"] == pytest.approx(1 / len(route.stops), abs=1e-4)
    assert mine["on_plan_min"] == pytest.approx(6.0)
    assert mine["detour_min"] == pytest.approx(3.0)
    spur_km = db.exec_driver_sql(f"SELECT length_m FROM street_segments WHERE id = {grid.spur}").scalar() / 1000
    assert mine["detour_km"] == pytest.approx(spur_km, abs=1e-3)
    others = table.drop(index=route.chief_code)
    assert (others["visited"] == 0).all() and (others["detour_km"] == 0).all()

    states = stop_states(db, plan_id, version, route.chief_code)
    assert states["seq"].tolist() == [s.seq for s in route.stops]
    assert states["visited"].tolist() == [True] + [False] * (len(route.stops) - 1)

    week = weekly(db, "ZT01", PLAN_DATE - dt.timedelta(days=2)).set_index("chief_code")
    assert week.loc[route.chief_code, "plans"] == 1 and week.loc[route.chief_code, "on_plan_min"] == pytest.approx(6.0)
    assert weekly(db, "ZT01", PLAN_DATE + dt.timedelta(days=1)).empty


def test_a_draft_is_no_task_and_approved_reads_back_as_gpx(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    for i, sid in enumerate(grid.ns):
        open_case(grid_seed, sid, X0 + STEP * i, Y0 + STEP * 2)
    request = PlanRequest(squad="ZT01", date=PLAN_DATE, minutes=25, weights=RETURNS_ONLY, time_limit_s=1.0)
    plan = make_plan(db, request)
    plan_id, version = save_plan(db, plan, author="leader")
    chief = next(r.chief_code for r in plan.routes if r.stops)
    assert chief_task(db, chief, PLAN_DATE) is None and approved_plans(db, PLAN_DATE, "ZT01").empty
    approve(db, plan_id, version, "leader")
    assert chief_task(db, chief, PLAN_DATE) == (plan_id, version)
    assert chief_task(db, chief, PLAN_DATE + dt.timedelta(days=1)) is None

    stored = load_plan(db, plan_id, version)
    original = next(r for r in plan.routes if r.chief_code == chief)
    again = next(r for r in stored.routes if r.chief_code == chief)
    assert [s.segment_id for s in again.stops] == [s.segment_id for s in original.stops]
    assert [(round(s.lon, 6), round(s.lat, 6)) for s in again.stops] == [
        (round(s.lon, 6), round(s.lat, 6)) for s in original.stops
    ]
    assert again.geometry.coords[0] == pytest.approx(original.geometry.coords[0])
    assert (
        again.start_at.hour == original.start_at.hour
        and again.stops[0].arrive_at.hour == original.stops[0].arrive_at.hour
    )
    assert states_hour(db, plan_id, version, chief) == original.stops[0].arrive_at.hour
    gpx = to_gpx(stored, chief)
    assert gpx.count("<wpt") == len(original.stops) and "<trkpt" in gpx


def states_hour(db: Connection, plan_id: int, version: int, chief: str) -> int:
    """Local hour of the first stop as :func:`stop_states` gives it."""
    return int(stop_states(db, plan_id, version, chief)["arrive_at"].iloc[0].hour)
