"""One-way streets: parts of a connected network a route cannot enter, or cannot leave and come back from.

The grid of ``conftest`` gets two one-way loops west and north of it: a trap (a one-way street leads
into a one-way loop with no street out) and a loop closed to entry (a one-way street only leads out).
Undirected, all of it is one connected piece; directed, a route from the station cannot patrol them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from plans.errors import PlanError
from plans.graph import NO_ENTRY, NO_RETURN, ensure_graph, network_pieces, one_way_traps, strong_pieces
from plans.planner import make_plan
from tests.layers.conftest import Seed

from .conftest import STEP, X0, Y0, Grid, N, open_case
from .test_planner import _request

NORTH = Y0 + STEP * (N - 1)


@dataclass
class Loops:
    """Segment ids: ``trap`` (entry street first, then the loop), ``closed`` (exit street first, then the loop)."""

    trap: list[int]
    closed: list[int]


@pytest.fixture
def loops(db: Connection, grid: Grid) -> Loops:
    seed = Seed(db)
    kw = dict(squad_code="ZT01", oneway="FT")
    # west of the grid: 入口路 from the junction of 南北0路 and 东西2街 into a one-way triangle
    a, b, c = (X0 - STEP, Y0 + 2 * STEP), (X0 - 2 * STEP, Y0 + 2 * STEP), (X0 - 1.5 * STEP, Y0 + 3 * STEP)
    trap = [
        seed.segment("TRAP_IN", [(X0, Y0 + 2 * STEP), a], name="入口路", **kw),
        seed.segment("TRAP_1", [a, b], name="环西路", **kw),
        seed.segment("TRAP_2", [b, c], name="环北路", **kw),
        seed.segment("TRAP_3", [c, a], name="环东路", **kw),
    ]
    # north of the grid: 出口路 from a one-way triangle down to the top of 南北2路
    g, h, i = (X0 + 2 * STEP, NORTH + STEP), (X0 + STEP, NORTH + 2 * STEP), (X0 + 3 * STEP, NORTH + 2 * STEP)
    closed = [
        seed.segment("OUT", [g, (X0 + 2 * STEP, NORTH)], name="出口路", **kw),
        seed.segment("OUT_1", [g, h], name="北环一路", **kw),
        seed.segment("OUT_2", [h, i], name="北环二路", **kw),
        seed.segment("OUT_3", [i, g], name="北环三路", **kw),
    ]
    db.execute(text("UPDATE street_segments SET length_m = ST_Length(geom::geography) WHERE length_m IS NULL"))
    return Loops(trap, closed)


def test_one_way_loops_are_one_connected_piece_but_reported_as_traps(db: Connection, grid: Grid, loops: Loops) -> None:
    ensure_graph(db)
    pieces = network_pieces(db, "ZT01")
    assert [p["piece"] for p in pieces] == [1, 2]  # undirected: the loops belong to the grid's piece
    traps = {frozenset(t["segments"]): t for t in pieces[0]["traps"]}
    trap = traps[frozenset(loops.trap)]
    assert trap["kind"] == NO_RETURN
    assert trap["km"] > 0
    assert any(label.startswith("入口路") for label in trap["labels"])
    assert any(label.startswith("环西路") for label in trap["labels"])
    closed = traps[frozenset(loops.closed)]
    assert closed["kind"] == NO_ENTRY
    assert any(label.startswith("出口路") for label in closed["labels"])
    # the grid's dead-end one-way street is a (one-node) trap too; nothing else of the grid is
    assert traps[frozenset({grid.oneway})]["kind"] == NO_RETURN
    assert len(traps) == 3
    assert pieces[1]["traps"] == []  # the island is two-way


def test_strong_parts_follow_the_routing_costs(db: Connection, grid: Grid, loops: Loops) -> None:
    ensure_graph(db)
    station = db.execute(
        text("SELECT id FROM route_graph_nodes ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:x, :y), 4326) LIMIT 1"),
        {"x": X0, "y": Y0},
    ).scalar_one()
    strong = strong_pieces(db, [1], station)
    assert strong.round_trip(station)
    assert strong.reference == strong.largest
    # turning the loop's streets two-way (as the graph's reverse_cost) closes the trap
    db.execute(text("UPDATE street_segments SET oneway = NULL WHERE id = ANY(:ids)"), {"ids": loops.trap})
    ensure_graph(db)
    assert not any(frozenset(t["segments"]) == frozenset(loops.trap) for t in one_way_traps(db, "ZT01"))


def test_planner_names_the_streets_it_cannot_return_from_and_plans_the_rest(
    db: Connection, grid: Grid, grid_seed: Seed, loops: Loops
) -> None:
    # the trap's streets carry the most prize, a short walk from the station
    for sid in loops.trap + loops.closed:
        open_case(grid_seed, sid, X0 - STEP, Y0 + 2 * STEP, n=3)
    open_case(grid_seed, grid.ew[1], X0 + STEP, Y0 + STEP, n=1)
    plan = make_plan(db, _request(minutes=40))
    chosen = {s.segment_id for r in plan.routes for s in r.stops}
    assert not chosen & set(loops.trap + loops.closed)
    assert grid.ew[1] in chosen  # the rest is planned: a usable partial result
    text_all = "\n".join(plan.messages)
    assert "入口路" in text_all and "环西路" in text_all and "进入后无法返回" in text_all
    assert "出口路" in text_all and "无法驶入" in text_all
    for route in plan.routes:
        assert route.duration_s <= 40 * 60


def test_a_start_inside_a_trap_says_so(db: Connection, grid: Grid, grid_seed: Seed, loops: Loops) -> None:
    open_case(grid_seed, grid.ew[1], X0 + STEP, Y0 + STEP, n=3)
    with pytest.raises(PlanError) as caught:
        make_plan(db, _request(minutes=40, start=(X0 - 2 * STEP, Y0 + 2 * STEP)))
    assert caught.value.reason == "unreachable"
    assert "起点位于单行道围成的区域" in str(caught.value)
    assert "东西1街" in str(caught.value)
