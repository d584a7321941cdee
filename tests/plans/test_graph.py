"""The routing graph: nodes at shared ends and crossings, one-way streets, pieces reported, lazy rebuild."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from plans import routing
from plans.graph import ensure_graph, network_pieces
from tests.layers.conftest import Seed

from .conftest import STEP, X0, Y0, Grid, N


def _edges(db: Connection, segment_id: int) -> list[tuple]:
    return db.execute(
        text(
            "SELECT part, source, target, cost, reverse_cost FROM route_graph_edges WHERE segment_id = :s ORDER BY part"
        ),
        {"s": segment_id},
    ).all()


def test_crossing_streets_are_cut_at_every_crossing(db: Connection, grid: Grid) -> None:
    info = ensure_graph(db)
    # each of the 5 + 5 straight streets is crossed by the 5 others: 4 pieces each
    for sid in grid.ns + grid.ew:
        assert len(_edges(db, sid)) == N - 1, sid
    # a north-south and an east-west street share the node where they cross
    ns_nodes = {n for _, a, b, _, _ in _edges(db, grid.ns[2]) for n in (a, b)}
    ew_nodes = {n for _, a, b, _, _ in _edges(db, grid.ew[3]) for n in (a, b)}
    assert len(ns_nodes & ew_nodes) == 1
    # 25 crossings + spur end + one-way end + the island's two ends
    assert info.nodes == N * N + 1 + 1 + 2
    assert info.edges == 2 * N * (N - 1) + 3


def test_a_shared_end_is_one_node(db: Connection, grid: Grid) -> None:
    ensure_graph(db)
    (spur,) = _edges(db, grid.spur)
    corner = {n for _, a, b, _, _ in _edges(db, grid.ns[-1]) for n in (a, b)} & {
        n for _, a, b, _, _ in _edges(db, grid.ew[-1]) for n in (a, b)
    }
    assert spur[1] in corner


def test_lengths_are_metres_in_the_metric_crs(db: Connection, grid: Grid) -> None:
    ensure_graph(db)
    total = db.execute(
        text("SELECT sum(length_m) FROM route_graph_edges WHERE segment_id = :s"), {"s": grid.ns[0]}
    ).scalar_one()
    assert total == pytest.approx(STEP * (N - 1) * 110_900, rel=0.01)  # 0.004° of latitude ≈ 443.6 m


def test_one_way_street_has_no_reverse_cost(db: Connection, grid: Grid) -> None:
    ensure_graph(db)
    ((_, source, target, cost, reverse_cost),) = _edges(db, grid.oneway)
    assert cost > 0 and reverse_cost == -1
    box = routing.search_box(db, [source, target])
    metres = routing.cost_matrix(db, [source, target], box)
    assert metres[0, 1] == pytest.approx(cost)
    assert metres[1, 0] == float("inf")  # a dead-end one-way street: no way back


def test_disconnected_pieces_are_reported(db: Connection, grid: Grid) -> None:
    info = ensure_graph(db)
    assert info.components == 2
    pieces = network_pieces(db, "ZT01")
    assert [p["piece"] for p in pieces] == [1, 2]
    assert pieces[1]["segments"] == 1 and pieces[1]["names"] == ["孤岛路"]
    stats = db.execute(text("SELECT stats FROM route_graph_builds ORDER BY id DESC LIMIT 1")).scalar_one()
    assert len(stats["pieces"]) == 2


def test_graph_is_rebuilt_when_streets_change_and_reused_otherwise(db: Connection, grid: Grid) -> None:
    first = ensure_graph(db)
    assert first.rebuilt
    assert not ensure_graph(db).rebuilt
    Seed(db).segment("NEW", [(X0 - STEP, Y0), (X0, Y0)], name="新路", squad_code="ZT01")
    again = ensure_graph(db)
    assert again.rebuilt and again.edges == first.edges + 1
