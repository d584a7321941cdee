"""Make a patrol plan: for each chief on duty, a route from the station through the segments worth patrolling.

The steps: the routing graph (rebuilt if the streets changed), the chiefs and the station, a prize
per segment of the squad (``plans.prizes``), the candidate segments and their walking directions
on the graph, a travel-time matrix between their ends (pgRouting), the choice and order of stops
(OR-Tools, ``plans.solver``), then each route drawn along the network with its times.
Anything that makes a plan impossible raises :class:`~plans.errors.PlanError`; anything that makes
it partial (streets in another piece of the network, unreachable one-way ends) is in ``messages``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.region import PATROL_MODES, get_region
from layers._segment_labels import segment_labels
from layers._visits import DEFAULT_SHIFTS
from plans import routing
from plans.errors import PlanError
from plans.graph import NO_RETURN, TRAP_LABELS, StrongPieces, ensure_graph, segments_off_round_trip, strong_pieces
from plans.prizes import Weights, segment_prizes
from plans.solver import Option, solve

SHIFTS = {"day": DEFAULT_SHIFTS[0], "evening": DEFAULT_SHIFTS[1]}  # local hours [start, end)
SHIFT_LABELS = {"day": "白班", "evening": "晚班"}
STATION_SNAP_M = 300.0  # a station further than this from every node is off the network
MAX_CANDIDATES = 250  # segments offered to the solver, by prize
MAX_NAMED = 5  # streets named in a message, the rest counted


@dataclass(frozen=True)
class PlanRequest:
    """What the leader asks for. ``chiefs`` empty: the squad's active chiefs. ``start``: lon/lat
    instead of the station. ``drop`` / ``add``: segment ids left out / required; ``assign``:
    segment id → chief code that must take it (an adjusted plan)."""

    squad: str
    date: dt.date
    shift: str = "day"
    chiefs: tuple[str, ...] = ()
    minutes: int = 120
    mode: str = "foot"
    weights: Weights = field(default_factory=Weights)
    start: tuple[float, float] | None = None
    start_time: dt.time | None = None
    as_of: dt.date | None = None  # evidence up to this day (default: the day before)
    drop: frozenset[int] = frozenset()
    add: frozenset[int] = frozenset()
    assign: Mapping[int, str] = field(default_factory=dict)
    time_limit_s: float = 2.0

    def as_dict(self) -> dict:
        """The request as JSON-able values (stored with each plan version)."""
        return {
            "squad": self.squad,
            "date": self.date.isoformat(),
            "shift": self.shift,
            "chiefs": list(self.chiefs),
            "minutes": self.minutes,
            "mode": self.mode,
            "weights": self.weights.as_dict(),
            "start": list(self.start) if self.start else None,
            "drop": sorted(self.drop),
            "add": sorted(self.add),
            "assign": {str(k): v for k, v in self.assign.items()},
        }


@dataclass
class Stop:
    """A segment to patrol on a route."""

    seq: int
    segment_id: int
    segment_key: str
    name: str | None
    reversed: bool
    arrive_at: dt.datetime
    leave_at: dt.datetime
    length_m: float
    prize: float
    hot: bool
    reasons: list[str]
    lon: float  # where walking the segment begins
    lat: float


@dataclass
class ChiefRoute:
    """One chief's route: stops in order, the path along the network, its length and duration."""

    chief_code: str
    chief_name: str
    start_at: dt.datetime
    stops: list[Stop]
    geometry: LineString | None
    length_m: float
    duration_s: float
    budget_s: float


@dataclass
class PlanCache:
    """What a re-plan after an adjustment can reuse: the prizes, the segments' walks, the cost matrix.

    Valid for one squad, evidence day, weights and graph build (``key``); filled by :func:`make_plan`.
    """

    key: tuple = ()
    prizes: pd.DataFrame | None = None
    walk: dict = field(default_factory=dict)
    nodes: list[int] = field(default_factory=list)
    metres: np.ndarray | None = None
    strong: StrongPieces | None = None  # one-way check of the start's piece, for ``strong_depot``
    strong_depot: int | None = None

    def matrix(self, conn: Connection, wanted: list[int]) -> tuple[np.ndarray, tuple]:
        """Metres between ``wanted`` nodes, from the cache when it holds them all, else from pgRouting."""
        bbox = routing.search_box(conn, wanted)
        if self.metres is not None and set(wanted) <= set(self.nodes):
            position = {n: i for i, n in enumerate(self.nodes)}
            take = [position[n] for n in wanted]
            return self.metres[np.ix_(take, take)], bbox
        self.nodes, self.metres = list(wanted), routing.cost_matrix(conn, wanted, bbox)
        return self.metres, bbox


@dataclass
class Plan:
    """A plan: one route per chief, figures for the squad, and messages about what was left out."""

    request: PlanRequest
    routes: list[ChiefRoute]
    summary: dict
    messages: list[str]
    cache: PlanCache | None = None  # pass to make_plan when re-planning after an adjustment


def _chiefs(conn: Connection, request: PlanRequest) -> list[tuple[str, str]]:
    rows = conn.execute(
        text("SELECT code, name FROM street_chiefs WHERE squad_code = :s AND active ORDER BY code"),
        {"s": request.squad},
    ).all()
    known = {code: name for code, name in rows}
    if not request.chiefs:
        if not known:
            raise PlanError("no_chief", f"中队 {request.squad} 没有在岗的街路长 (no active street chief in the squad)")
        return list(known.items())
    unknown = [c for c in request.chiefs if c not in known]
    if unknown:
        raise PlanError(
            "no_chief",
            f"街路长 {'、'.join(unknown)} 不在中队 {request.squad} 的在岗名单中 (not an active chief of the squad)",
        )
    return [(c, known[c]) for c in request.chiefs]


def _depot(conn: Connection, request: PlanRequest) -> tuple[int, int]:
    """The graph node where routes start and end, and its piece of the network."""
    if request.start is not None:
        lon, lat = request.start
        where = "所选起点"
    else:
        row = conn.execute(
            text("SELECT ST_X(station), ST_Y(station) FROM squads WHERE code = :s"), {"s": request.squad}
        ).first()
        if row is None:
            raise PlanError("unknown_squad", f"没有中队 {request.squad} (unknown squad)")
        if row[0] is None:
            raise PlanError("no_station", f"中队 {request.squad} 没有驻地位置，请选择起点 (the squad has no station)")
        lon, lat = row
        where = "中队驻地"
    found = routing.nearest_node(conn, lon, lat, STATION_SNAP_M)
    if found is None:
        raise PlanError(
            "station_off_network",
            f"{where}距路网超过 {STATION_SNAP_M:.0f} 米，无法规划路线 (start is off the street network)",
        )
    piece = conn.execute(text("SELECT component FROM route_graph_nodes WHERE id = :n"), {"n": found[0]}).scalar_one()
    return found[0], int(piece)


def make_plan(conn: Connection, request: PlanRequest, cache: PlanCache | None = None) -> Plan:
    """Make a plan for ``request`` (writes only the routing graph, when it must be rebuilt).

    ``cache``: the previous plan's :attr:`Plan.cache` when re-planning after an adjustment (drop, add,
    move a stop): prizes and shortest paths are reused when squad, day, weights and graph are the same.

    Raises
    ------
    PlanError
        No chief on duty, unknown squad or shift or mode, station off the network, a budget too small
        for any stop, or nothing to patrol; ``partial`` holds what could be planned, if anything.
    """
    region = get_region()
    if request.shift not in SHIFTS:
        raise PlanError("bad_shift", f"未知班次 {request.shift!r}，可选 {', '.join(SHIFTS)} (unknown shift)")
    if request.mode not in PATROL_MODES:
        raise PlanError("bad_mode", f"未知巡查方式 {request.mode!r}，可选 {', '.join(PATROL_MODES)} (unknown mode)")
    if request.minutes <= 0:
        raise PlanError("budget_too_small", "巡查时间必须大于 0 分钟 (the time budget must be positive)")
    graph = ensure_graph(conn)
    chiefs = _chiefs(conn, request)
    depot_node, depot_piece = _depot(conn, request)
    messages: list[str] = []
    as_of = request.as_of or request.date - dt.timedelta(days=1)
    key = (request.squad, as_of, request.weights, graph.build_id)
    if cache is None or cache.key != key:
        cache = PlanCache(key=key)
    if cache.prizes is None:
        cache.prizes = segment_prizes(conn, request.squad, as_of, request.weights, region.tz)
    prizes = cache.prizes[~cache.prizes["segment_id"].isin(request.drop)]
    wanted = (prizes["prize"] > 0) | prizes["segment_id"].isin(request.add) | prizes["segment_id"].isin(request.assign)
    candidates = prizes[wanted].sort_values("prize", ascending=False)
    forced = candidates["segment_id"].isin(request.add) | candidates["segment_id"].isin(request.assign)
    candidates = pd.concat([candidates[forced], candidates[~forced].head(MAX_CANDIDATES)]).reset_index(drop=True)
    if len(candidates) == 0:
        raise PlanError("nothing_to_patrol", f"中队 {request.squad} 没有需要巡查的路段 (no segment has a prize)")

    missing = [int(sid) for sid in candidates["segment_id"] if sid not in cache.walk]
    if missing:
        cache.walk.update(routing.segment_path(conn, missing))
    walk = cache.walk
    pieces = dict(conn.execute(text("SELECT id, component FROM route_graph_nodes")).all()) if walk else {}
    in_piece = candidates["segment_id"].map(lambda s: s in walk and pieces.get(walk[s]["start"]) == depot_piece)
    elsewhere = candidates[~in_piece]
    if len(elsewhere):
        messages.append(
            f"路网不连通：{len(elsewhere)} 个待巡查路段（{elsewhere['length_m'].sum() / 1000:.1f} 公里）"
            f"与起点不在同一片路网，未纳入计划 (network in pieces: {len(elsewhere)} segments unreachable)"
        )
    candidates = candidates[in_piece].reset_index(drop=True)
    if cache.strong is None or cache.strong_depot != depot_node:
        cache.strong, cache.strong_depot = strong_pieces(conn, [depot_piece], depot_node), depot_node
    candidates = _round_trips_only(conn, candidates, cache.strong, depot_node, messages)

    travel_mps = region.patrol.travel_kmh[request.mode] / 3.6
    inspect_mps = region.patrol.inspect_kmh[request.mode] / 3.6
    nodes = [depot_node]
    for sid in candidates["segment_id"]:
        nodes += [walk[sid]["start"], walk[sid]["end"]]
    unique = list(dict.fromkeys(nodes))
    index = {n: i for i, n in enumerate(unique)}
    metres, bbox = cache.matrix(conn, unique)
    travel = metres / travel_mps
    options: list[Option] = []
    for k, sid in enumerate(candidates["segment_id"]):
        info = walk[sid]
        service = round(info["length_m"] / inspect_mps)
        a, b = index[info["start"]], index[info["end"]]
        if info["forward"]:
            options.append(Option(k, a, b, service, reversed=False))
        if info["backward"]:
            options.append(Option(k, b, a, service, reversed=True))
    depot = index[depot_node]
    budget = int(request.minutes * 60)
    round_trip = [travel[depot, o.entry] + o.service_s + travel[o.exit, depot] for o in options]
    reachable = [o for o, t in zip(options, round_trip, strict=True) if np.isfinite(t)]
    if len(reachable) < len(options):
        lost = len({o.segment for o in options}) - len({o.segment for o in reachable})
        if lost:
            messages.append(
                f"{lost} 个路段在起点附近的路网内无法往返，未纳入计划 (segments without a way there and back nearby)"
            )
    if not any(np.isfinite(t) and t <= budget for t in round_trip):
        finite = [t for t in round_trip if np.isfinite(t)]
        if finite:
            raise PlanError(
                "budget_too_small",
                f"{request.minutes} 分钟不够从起点往返任何一个待巡查路段（最短需 {min(finite) / 60:.0f} 分钟）"
                " (the time budget is too small for any stop)",
            )
        raise PlanError(
            "unreachable",
            "；".join(["没有可从起点往返的待巡查路段 (no segment to patrol is reachable from the start)", *messages]),
        )
    chief_index = {code: v for v, (code, _) in enumerate(chiefs)}
    allowed = {}
    for sid, code in request.assign.items():
        hit = candidates.index[candidates["segment_id"] == sid]
        if len(hit) and code in chief_index:
            allowed[int(hit[0])] = [chief_index[code]]
    mandatory = candidates.index[candidates["segment_id"].isin(request.add)].tolist()
    solution = solve(
        travel,
        depot,
        reachable,
        candidates["prize"].tolist(),
        [budget] * len(chiefs),
        mandatory=mandatory,
        allowed_vehicles=allowed,
        time_limit_s=request.time_limit_s,
    )
    start_at = dt.datetime.combine(
        request.date, request.start_time or dt.time(SHIFTS[request.shift][0]), tzinfo=region.tz
    )
    routes = _draw(conn, chiefs, solution, reachable, candidates, walk, unique, depot_node, bbox, start_at, budget)
    summary = _summary(routes, prizes, candidates, solution, request)
    for sid in set(request.add):
        if sid not in {s.segment_id for r in routes for s in r.stops}:
            messages.append(f"路段 {sid} 无法在时间内纳入计划 (an added segment does not fit the budget)")
    return Plan(request, routes, summary, messages, cache)


def _round_trips_only(
    conn: Connection, candidates: pd.DataFrame, strong: StrongPieces, depot_node: int, messages: list[str]
) -> pd.DataFrame:
    """The candidates a route from the start can reach and come back from; the others named in ``messages``.

    One-way streets can make part of a connected network a trap (entered but not left) or closed to
    entry; ``strong`` is the start's piece split by ``pgr_strongComponents`` with the start's part as
    reference. A start that is itself in such a part (not the main network) is said first.
    """
    if strong.part.get(depot_node, strong.largest) != strong.largest:
        messages.append(
            "起点位于单行道围成的区域，只能规划该区域内的路段 (the start is in a one-way part of the network)"
        )
    off = segments_off_round_trip(conn, candidates["segment_id"].tolist(), strong)
    if not off:
        return candidates
    labels = segment_labels(conn, list(off))["label"]
    for kind in dict.fromkeys(strong.kind[p] for p in off.values()):
        ids = [s for s in candidates["segment_id"] if s in off and strong.kind[off[s]] == kind]
        named = "、".join(str(labels[s]) for s in ids[:MAX_NAMED])
        more = f"等 {len(ids)} 个路段" if len(ids) > MAX_NAMED else ""
        why = "从起点进入后无法返回" if kind == NO_RETURN else f"因单行道{TRAP_LABELS[kind]}"
        messages.append(
            f"单行道：{named}{more}{why}，未纳入计划 "
            f"(one-way streets: {len(ids)} segments a route cannot enter and leave again)"
        )
    return candidates[~candidates["segment_id"].isin(list(off))].reset_index(drop=True)


def _draw(conn, chiefs, solution, options, candidates, walk, unique, depot_node, bbox, start_at, budget) -> list:
    """Routes with stops, times and the path drawn along the network."""
    legs_wanted = []
    for stops in solution.routes:
        at = depot_node
        for option_index, _ in stops:
            option = options[option_index]
            legs_wanted.append((at, unique[option.entry]))
            at = unique[option.exit]
        legs_wanted.append((at, depot_node))
    legs = routing.paths(conn, legs_wanted, bbox)
    routes = []
    for vehicle, (code, name) in enumerate(chiefs):
        stops_out: list[Stop] = []
        parts: list = []
        at = depot_node
        length = 0.0
        for seq, (option_index, arrive) in enumerate(solution.routes[vehicle], start=1):
            option = options[option_index]
            row = candidates.iloc[option.segment]
            sid = int(row["segment_id"])
            parts += legs.get((at, unique[option.entry]), [])
            pieces = walk[sid]["pieces"]
            walked = [shapely.reverse(p) for p in reversed(pieces)] if option.reversed else list(pieces)
            parts += walked
            lon, lat = walked[0].coords[0]
            at = unique[option.exit]
            stops_out.append(
                Stop(
                    seq=seq,
                    segment_id=sid,
                    segment_key=str(row["segment_key"]),
                    name=row["name"],
                    reversed=option.reversed,
                    arrive_at=start_at + dt.timedelta(seconds=arrive),
                    leave_at=start_at + dt.timedelta(seconds=arrive + option.service_s),
                    length_m=float(walk[sid]["length_m"]),
                    prize=round(float(row["prize"]), 3),
                    hot=bool(row["hot_class"] > 0),
                    reasons=list(row["reasons"]),
                    lon=lon,
                    lat=lat,
                )
            )
        parts += legs.get((at, depot_node), []) if stops_out else []
        geometry = join_pieces(parts)
        if geometry is not None:
            length = float(_metres(geometry))
        routes.append(
            ChiefRoute(
                code, name, start_at, stops_out, geometry, round(length, 1), float(solution.end_s[vehicle]), budget
            )
        )
    return routes


def join_pieces(parts: Sequence) -> LineString | None:
    """One LineString through oriented pieces in order (repeated joints dropped)."""
    coords: list = []
    for part in parts:
        xy = shapely.get_coordinates(part).tolist()
        if coords and xy and np.allclose(coords[-1], xy[0]):
            xy = xy[1:]
        coords += xy
    return LineString(coords) if len(coords) >= 2 else None


def _metres(geometry: LineString) -> float:
    from geo.spatial import length_m

    return float(length_m(geometry, get_region().metric_crs))


def _summary(routes: list[ChiefRoute], prizes: pd.DataFrame, candidates, solution, request: PlanRequest) -> dict:
    """Figures of the plan: stops, km, time on hot segments, share of the squad's hot street length."""
    hot = prizes[prizes["hot_class"] > 0]
    hot_total = float(hot["length_m"].sum())
    stops = [s for r in routes for s in r.stops]
    hot_stops = [s for s in stops if s.hot]
    hot_planned = sum(s.length_m for s in hot_stops)
    return {
        "chiefs": len(routes),
        "stops": len(stops),
        "segments": len({s.segment_id for s in stops}),
        "length_km": round(sum(r.length_m for r in routes) / 1000, 3),
        "hot_minutes": round(sum((s.leave_at - s.arrive_at).total_seconds() for s in hot_stops) / 60, 1),
        "hot_length_km": round(hot_total / 1000, 3),
        "hot_share": round(hot_planned / hot_total, 4) if hot_total else 0.0,
        "prize": round(sum(s.prize for s in stops), 3),
        "prize_offered": round(float(candidates["prize"].sum()), 3),
        "candidates": len(candidates),
        "solver": "OR-Tools routing (guided local search)",
        "solver_status": solution.status,
        "time_limit_s": request.time_limit_s,
    }
