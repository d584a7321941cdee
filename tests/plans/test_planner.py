"""The planner on the grid: budgets kept, no segment shared, prizes drive the choice, clear failures."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from plans.errors import PlanError
from plans.planner import PlanRequest, make_plan
from plans.prizes import Weights
from tests.layers.conftest import Seed

from .conftest import PLAN_DATE, STEP, X0, Y0, Grid, open_case

RETURNS_ONLY = Weights(hot=0, cases=0, under=0, returns=1, sanitation=0, warnings=0)


def _request(**kw) -> PlanRequest:
    base = dict(squad="ZT01", date=PLAN_DATE, minutes=30, mode="foot", weights=RETURNS_ONLY, time_limit_s=1.0)
    return PlanRequest(**{**base, **kw})


def _cases_everywhere(seed: Seed, grid: Grid) -> None:
    for i, sid in enumerate(grid.ns):
        open_case(seed, sid, X0 + STEP * i, Y0 + STEP * 2, n=1 + i % 3)
    for j, sid in enumerate(grid.ew):
        open_case(seed, sid, X0 + STEP * 2, Y0 + STEP * j, n=1 + j % 2)


def test_plan_keeps_budgets_and_never_shares_a_segment(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    _cases_everywhere(grid_seed, grid)
    plan = make_plan(db, _request(minutes=25))
    assert [r.chief_code for r in plan.routes] == grid.chiefs
    seen: list[int] = []
    for route in plan.routes:
        assert route.duration_s <= 25 * 60
        assert route.stops, "each chief gets something to patrol"
        times = [s.arrive_at for s in route.stops]
        assert times == sorted(times) and times[0] >= route.start_at
        assert route.stops[-1].leave_at <= route.start_at + dt_minutes(25)
        seen += [s.segment_id for s in route.stops]
        # the path is drawn along the network and starts and ends at the station
        start, end = route.geometry.coords[0], route.geometry.coords[-1]
        assert start == pytest.approx((X0, Y0), abs=1e-6) and end == pytest.approx((X0, Y0), abs=1e-6)
        assert route.length_m > sum(s.length_m for s in route.stops) * 0.99
    assert len(seen) == len(set(seen))
    assert plan.summary["stops"] == len(seen)


def dt_minutes(m: int):
    import datetime as dt

    return dt.timedelta(minutes=m)


def test_more_time_collects_more(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    _cases_everywhere(grid_seed, grid)
    short = make_plan(db, _request(minutes=20, chiefs=("TC01",)))
    long = make_plan(db, _request(minutes=60, chiefs=("TC01",)))
    assert long.summary["prize"] > short.summary["prize"]


def test_a_prized_segment_is_chosen_over_a_cold_one_at_the_same_distance(
    db: Connection, grid: Grid, grid_seed: Seed
) -> None:
    # NS0 and EW0 both start at the station; only EW0 has open cases. With time for one street, EW0 it is.
    open_case(grid_seed, grid.ew[0], X0 + STEP, Y0, n=3)
    open_case(grid_seed, grid.ns[4], X0 + STEP * 4, Y0 + STEP * 3, n=1)  # far: not worth it in 25 minutes
    plan = make_plan(db, _request(minutes=25, chiefs=("TC01",)))
    chosen = [s.segment_id for s in plan.routes[0].stops]
    assert chosen[0] == grid.ew[0]
    assert grid.ns[0] not in chosen
    # swap the prize: now NS-side cases, and the plan follows the prize
    db.execute(
        text("UPDATE cases SET near_segment_id = :s WHERE near_segment_id = :e"), {"s": grid.ns[0], "e": grid.ew[0]}
    )
    plan = make_plan(db, _request(minutes=25, chiefs=("TC01",)))
    assert plan.routes[0].stops[0].segment_id == grid.ns[0]


def test_adjusting_drops_adds_and_moves_stops(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    _cases_everywhere(grid_seed, grid)
    plan = make_plan(db, _request(minutes=40))
    assert grid.spur not in {s.segment_id for r in plan.routes for s in r.stops}  # no prize: not chosen
    first = plan.routes[0].stops[0].segment_id
    moved = plan.routes[1].stops[0].segment_id
    change = dataclasses.replace(
        plan.request, drop=frozenset({first}), add=frozenset({grid.spur}), assign={moved: "TC01"}
    )
    adjusted = make_plan(db, change, plan.cache)  # the re-plan reuses prizes and paths, adds the spur's
    fresh = make_plan(db, change)
    assert adjusted.summary["prize"] == pytest.approx(fresh.summary["prize"], rel=0.1)
    segments = {r.chief_code: [s.segment_id for s in r.stops] for r in adjusted.routes}
    assert first not in segments["TC01"] + segments["TC02"]
    assert grid.spur in segments["TC01"] + segments["TC02"]
    assert moved in segments["TC01"] and moved not in segments["TC02"]
    assert all(r.duration_s <= 40 * 60 for r in adjusted.routes)


def test_an_added_segment_that_cannot_fit_is_reported(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    _cases_everywhere(grid_seed, grid)
    plan = make_plan(db, _request(minutes=20, add=frozenset({grid.spur})))
    assert grid.spur not in {s.segment_id for r in plan.routes for s in r.stops}
    assert any(str(grid.spur) in m for m in plan.messages)


def test_network_in_pieces_gives_a_partial_plan_with_a_message(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    _cases_everywhere(grid_seed, grid)
    open_case(grid_seed, grid.island, X0 + 0.0305, Y0 + 0.03, n=3)
    plan = make_plan(db, _request(minutes=25))
    assert any("路网不连通" in m for m in plan.messages)
    assert grid.island not in {s.segment_id for r in plan.routes for s in r.stops}
    assert plan.summary["stops"] > 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"chiefs": ("NOBODY",)}, "no_chief"),
        ({"minutes": 1}, "budget_too_small"),
        ({"start": (X0 + 0.02, Y0 - 0.02)}, "station_off_network"),
        ({"shift": "midnight"}, "bad_shift"),
        ({"mode": "horse"}, "bad_mode"),
    ],
)
def test_impossible_plans_say_why(db: Connection, grid: Grid, grid_seed: Seed, change: dict, reason: str) -> None:
    _cases_everywhere(grid_seed, grid)
    with pytest.raises(PlanError) as caught:
        make_plan(db, _request(**change))
    assert caught.value.reason == reason
    assert str(caught.value)


def test_no_active_chief_is_a_clear_error(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    _cases_everywhere(grid_seed, grid)
    db.execute(text("UPDATE street_chiefs SET active = false WHERE squad_code = 'ZT01'"))
    with pytest.raises(PlanError, match="没有在岗的街路长") as caught:
        make_plan(db, _request())
    assert caught.value.reason == "no_chief"


def test_one_way_street_is_walked_only_its_way(db: Connection, grid: Grid, grid_seed: Seed) -> None:
    # The one-way street is a dead end pointing away from the grid: it can be entered but never left.
    open_case(grid_seed, grid.oneway, X0 + STEP * 5, Y0, n=3)
    # NS0 (drawn south to north from the station) becomes one-way north to south
    db.execute(text("UPDATE street_segments SET oneway = 'TF' WHERE id = :s"), {"s": grid.ns[0]})
    open_case(grid_seed, grid.ns[0], X0, Y0 + STEP * 2, n=3)
    plan = make_plan(db, _request(minutes=40, chiefs=("TC01",)))
    assert any("单行" in m for m in plan.messages)
    stops = {s.segment_id: s for s in plan.routes[0].stops}
    assert grid.oneway not in stops
    assert stops[grid.ns[0]].reversed  # walked against its drawing direction, as the one-way sign says
