"""Choose and order the stops: a prize-collecting vehicle routing problem with time budgets, by OR-Tools.

Vehicles are the chiefs on duty, all starting and ending at the depot (the squad station). Each
candidate segment is one disjunction of its allowed walking directions (A→B, B→A): at most one is
visited, by one chief, and leaving it out costs its prize as the disjunction penalty. The time
dimension (travel + walking the segment) has each chief's budget as capacity. The objective is
travel time plus the prizes left out, so the solver collects as much prize as fits in the budgets
and, among equal prizes, travels least. Guided local search runs until the time limit; the best
plan found is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

PRIZE_SCALE = 3600  # seconds of travel one prize unit is worth
MANDATORY_PENALTY = 10**9  # a segment the leader added by hand


@dataclass(frozen=True)
class Option:
    """One way of patrolling a segment: enter at ``entry``, walk it (``service_s``), leave at ``exit``."""

    segment: int  # index into the candidate segments
    entry: int  # index into the travel matrix
    exit: int
    service_s: int
    reversed: bool = False


@dataclass
class Solution:
    """Per vehicle: the options visited in order, with arrival times (seconds from the start)."""

    routes: list[list[tuple[int, int]]] = field(default_factory=list)  # (option index, arrival s)
    end_s: list[int] = field(default_factory=list)  # arrival back at the depot
    objective: int = 0
    status: str = ""


def solve(
    travel_s: np.ndarray,
    depot: int,
    options: Sequence[Option],
    prizes: Sequence[float],
    budgets_s: Sequence[int],
    *,
    mandatory: Sequence[int] = (),
    allowed_vehicles: dict[int, Sequence[int]] | None = None,
    time_limit_s: float = 2.0,
) -> Solution:
    """Solve the prize-collecting routing problem.

    Parameters
    ----------
    travel_s
        Travel seconds between matrix indices (``inf`` where unreachable).
    depot
        Matrix index of the start and end of every route.
    options
        The ways to patrol each candidate segment (one or two per segment).
    prizes
        Prize per candidate segment (``Option.segment`` indexes it).
    budgets_s
        Time budget of each vehicle (chief), seconds.
    mandatory
        Candidate segments that must be visited when feasible (added by the leader).
    allowed_vehicles
        Candidate segment → vehicles that may take it (a stop moved to another chief).
    time_limit_s
        Wall-clock limit of the search.
    """
    n_vehicles = len(budgets_s)
    n_nodes = len(options) + 1
    big = int(max(budgets_s) * 10) + 1
    finite = np.where(np.isfinite(travel_s), travel_s, big)
    entries = np.array([depot] + [o.entry for o in options])
    exits = np.array([depot] + [o.exit for o in options])
    service = np.array([0] + [o.service_s for o in options])
    transit = (service[:, None] + finite[np.ix_(exits, entries)]).round().astype(np.int64)
    np.fill_diagonal(transit, 0)
    manager = pywrapcp.RoutingIndexManager(n_nodes, n_vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    transit_index = routing.RegisterTransitMatrix(transit.tolist())  # evaluated in C++, not a Python callback
    routing.SetArcCostEvaluatorOfAllVehicles(transit_index)
    routing.AddDimensionWithVehicleCapacity(transit_index, 0, [int(b) for b in budgets_s], True, "time")

    by_segment: dict[int, list[int]] = {}
    for node, option in enumerate(options, start=1):
        by_segment.setdefault(option.segment, []).append(node)
    must = set(mandatory)
    for segment, nodes in by_segment.items():
        penalty = MANDATORY_PENALTY if segment in must else max(1, round(prizes[segment] * PRIZE_SCALE))
        routing.AddDisjunction([manager.NodeToIndex(n) for n in nodes], penalty, 1)
        if allowed_vehicles and segment in allowed_vehicles:
            for n in nodes:  # -1: left out (the disjunction still allows it)
                routing.VehicleVar(manager.NodeToIndex(n)).SetValues([-1, *map(int, allowed_vehicles[segment])])

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(100, int(time_limit_s * 1000)))
    assignment = routing.SolveWithParameters(params)
    solution = Solution(status=str(routing.status()))
    if assignment is None:
        solution.routes = [[] for _ in range(n_vehicles)]
        solution.end_s = [0] * n_vehicles
        return solution
    time = routing.GetDimensionOrDie("time")
    solution.objective = int(assignment.ObjectiveValue())
    for vehicle in range(n_vehicles):
        index = routing.Start(vehicle)
        stops = []
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            stops.append((node - 1, int(assignment.Value(time.CumulVar(index)))))
            index = assignment.Value(routing.NextVar(index))
        solution.routes.append(stops)
        solution.end_s.append(int(assignment.Value(time.CumulVar(index))))
    return solution
