"""GPS tracks: street chiefs on patrol (phone GPS) and sanitation vehicles, with realistic noise.

Noise as real receivers give it: a few metres of jitter, stationary drift while standing,
multipath jumps of 80–300 m for one to three fixes, gaps when the phone sleeps, a 10–30 s
fix interval per device. Times are returned in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from etl.demo.chiefs import Chief
from etl.demo.geography import Geography
from etl.demo.routes import Route
from etl.demo.streets import Network

SPEED_KMH = {"步行": 4.5, "电动车": 13.0, "汽车": 28.0}
UTC_OFFSET = np.timedelta64(8 * 3600, "s")  # Asia/Shanghai has no daylight saving time


@dataclass
class Track:
    """One device's fixes for one day (times UTC) and what was planted in them."""

    subject: str
    day: dt.date
    t: np.ndarray  # datetime64[s], UTC
    x: np.ndarray  # metric
    y: np.ndarray
    speed_kmh: np.ndarray
    heading: np.ndarray
    segments: list[int] = field(default_factory=list)  # segments truly traversed, in order
    jumps: int = 0
    gaps: int = 0
    stops: int = 0


def _graph(net: Network):
    n = len(net.nodes)
    w = net.seg_length
    rows = np.r_[net.seg_from, net.seg_to]
    cols = np.r_[net.seg_to, net.seg_from]
    return coo_matrix((np.r_[w, w], (rows, cols)), shape=(n, n)).tocsr()


def _path_nodes(pred: np.ndarray, source_row: int, target: int) -> list[int]:
    path = [target]
    while True:
        p = pred[source_row, path[-1]]
        if p < 0:
            break
        path.append(int(p))
    return path[::-1]


def _sample(
    rng: np.random.Generator,
    line: np.ndarray,
    start: np.datetime64,
    speed_kmh: float,
    interval: float,
    stops: int,
    urban: bool,
    max_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, float]:
    """Fixes along ``line`` at ``speed_kmh`` with ``stops`` pauses, for at most ``max_s`` seconds;
    returns t, x, y, speed, heading, stops and the distance along ``line`` reached."""
    step = np.hypot(*np.diff(line, axis=0).T)
    cum = np.r_[0.0, np.cumsum(step)]
    total = cum[-1]
    speed = speed_kmh / 3.6
    # time knots: moving, with pauses inserted at random distances
    pause_at = np.sort(rng.uniform(0, total, stops))
    pause_len = rng.uniform(120, 600, stops)
    knots_d = [0.0]
    knots_t = [0.0]
    for d, p in zip(pause_at, pause_len, strict=True):
        knots_t.append(knots_t[-1] + (d - knots_d[-1]) / speed)
        knots_d.append(d)
        knots_t.append(knots_t[-1] + p)
        knots_d.append(d)
    knots_t.append(knots_t[-1] + (total - knots_d[-1]) / speed)
    knots_d.append(total)
    duration = knots_t[-1]
    count = int(duration / interval) + 1
    times = np.cumsum(np.r_[0.0, rng.uniform(interval - 2, interval + 2, count - 1)])
    times = times[times <= (duration if max_s is None else min(duration, max_s))]
    dist = np.interp(times, knots_t, knots_d)
    x = np.interp(dist, cum, line[:, 0])
    y = np.interp(dist, cum, line[:, 1])
    # jitter, plus stationary drift (a slow random walk) while standing
    sigma = 6.0 if urban else 4.0
    nx, ny = rng.normal(0, sigma, len(times)), rng.normal(0, sigma, len(times))
    standing = np.r_[False, np.diff(dist) < 0.5]
    walk = np.cumsum(rng.normal(0, 2.5, (len(times), 2)), axis=0)
    # each stop's drift starts from zero: subtract the walk's value at the last moving fix
    last_moving = np.maximum.accumulate(np.where(standing, 0, np.arange(len(times))))
    drift = np.where(standing[:, None], walk - walk[last_moving], 0.0)
    x = x + nx + drift[:, 0]
    y = y + ny + drift[:, 1]
    dx, dy = np.gradient(x), np.gradient(y)
    dt_s = np.gradient(times) if len(times) > 1 else np.ones(1)
    v = np.hypot(dx, dy) / np.maximum(dt_s, 1) * 3.6
    heading = (np.degrees(np.arctan2(dx, dy)) + 360) % 360
    t = start + times.round().astype("timedelta64[s]")
    return t, x, y, v, heading, stops, float(dist[-1]) if len(dist) else 0.0


def _noise(rng: np.random.Generator, track: Track, jump_rate: float, gap_rate: float) -> Track:
    """Multipath jumps and gaps (the phone slept or lost the sky)."""
    n = len(track.t)
    if n < 10:
        return track
    jumps = np.flatnonzero(rng.random(n) < jump_rate)
    for j in jumps:
        k = int(rng.integers(1, 4))
        angle = rng.uniform(0, 2 * np.pi)
        size = rng.uniform(80, 300)
        track.x[j : j + k] += size * np.cos(angle)
        track.y[j : j + k] += size * np.sin(angle)
    keep = np.ones(n, dtype=bool)
    gaps = int(rng.poisson(gap_rate))
    for _ in range(gaps):
        a = int(rng.integers(0, n))
        keep[a : a + int(rng.integers(8, 45))] = False
    track.jumps = len(jumps)
    track.gaps = gaps
    for name in ("t", "x", "y", "speed_kmh", "heading"):
        setattr(track, name, getattr(track, name)[keep])
    return track


HOT_SKIP_SHARE = 0.5  # share of the chiefs with a hot segment who skip it on some days
HOT_SKIP_DAY_P = 0.75  # a skipper's chance to leave their hot segments out on a given day (always on the last)
HOT_PER_CHIEF = 2  # a chief's hot segments: their busiest (cases per km) over the last 30 days
DUTY_SHARE = 0.05  # the reduced set kept on duty through each whole shift, every day (at least DUTY_MIN)
DUTY_MIN = 2


@dataclass
class HotSkip:
    """A street chief who leaves their hot segments out on some days (planted truth)."""

    segments: list[int]  # network indices of the chief's hot segments
    days: set[dt.date]  # the days they are skipped


@dataclass
class PatrolHabits:
    """What is planted in the patrols beyond chance: hot segments skipped, the on-duty rota per shift."""

    skips: dict[str, HotSkip] = field(default_factory=dict)  # chief code -> skip
    duty: dict[tuple[dt.date, int], list[str]] = field(default_factory=dict)  # (day, shift index) -> chief codes


def on_duty(habits: PatrolHabits, day: dt.date) -> set[str]:
    """The chiefs of ``day``'s duty rota (any shift): they patrol at random all shift, never to a plan."""
    return {code for (when, _), codes in habits.duty.items() if when == day for code in codes}


def hot_segments_of(chief: Chief, net: Network, recent_cases: np.ndarray) -> list[int]:
    """The chief's busiest segments: the ``HOT_PER_CHIEF`` with most recent cases per km (at least two cases)."""
    segments = [s for s in dict.fromkeys(chief.segments) if recent_cases[s] >= 2]
    per_km = {s: recent_cases[s] / max(net.seg_length[s] / 1000, 0.05) for s in segments}
    return sorted(segments, key=lambda s: (-per_km[s], s))[:HOT_PER_CHIEF]


def plan_habits(
    chiefs: list[Chief],
    net: Network,
    recent_cases: np.ndarray,
    shifts: Sequence[tuple[int, int]],
    dates: list[dt.date],
    rng: np.random.Generator,
) -> PatrolHabits:
    """Who skips their hot segments on which days, and who is on duty through each shift of each day.

    Parameters
    ----------
    chiefs, net
        The roster and the street network.
    recent_cases
        Cases per network segment over the 30 days before the last day (the ranking's window).
    shifts
        The region's duty shifts, local hours ``[start, end)``.
    dates
        The patrol days, oldest first; skippers always skip on the last one (the day the simulator replays).
    rng
        Random source.
    """
    habits = PatrolHabits()
    for chief in chiefs:
        hot = hot_segments_of(chief, net, recent_cases)
        if hot and rng.random() < HOT_SKIP_SHARE:
            days = {d for d in dates if rng.random() < HOT_SKIP_DAY_P} | {dates[-1]}
            habits.skips[chief.code] = HotSkip(hot, days)
    walkers = [c.code for c in chiefs if c.segments]
    count = min(len(walkers), max(DUTY_MIN, round(DUTY_SHARE * len(walkers))))
    for day in dates:
        busy: set[str] = set()
        for k in range(len(shifts)):
            free = [c for c in walkers if c not in busy] or walkers
            chosen = [str(c) for c in rng.choice(free, size=min(count, len(free)), replace=False)]
            habits.duty[(day, k)] = chosen
            busy.update(chosen)
    return habits


def day_segments(chief: Chief, day: dt.date, habits: PatrolHabits) -> tuple[list[int], np.ndarray]:
    """The segments ``chief`` walks on ``day`` and how often each (weights summing to 1).

    The one place that decides a chief's streets for a day: their own segments by patrol weight,
    without their hot segments on a planted skip day (all of them if nothing else is left).
    A patrol plan (plans/) can take over here.
    """
    skip = habits.skips.get(chief.code)
    avoid = set(skip.segments) if skip is not None and day in skip.days else set()
    pairs = [(s, w) for s, w in zip(chief.segments, chief.weights, strict=True) if s not in avoid]
    pairs = pairs or list(zip(chief.segments, chief.weights, strict=True))
    weights = np.array([w for _, w in pairs], dtype=float)
    return [s for s, _ in pairs], weights / weights.sum()


def _without(graph, net: Network, segments: frozenset[int]):
    """The graph without ``segments`` (a chief avoiding their hot segments does not cut through them)."""
    if not segments:
        return graph
    g = graph.tolil(copy=True)
    for s in segments:
        a, b = net.seg_from[s], net.seg_to[s]
        g[a, b] = 0
        g[b, a] = 0
    out = g.tocsr()
    out.eliminate_zeros()
    return out


def patrol_tracks(
    geo: Geography,
    net: Network,
    chiefs: list[Chief],
    rng: np.random.Generator,
    end: dt.date,
    days: int,
    habits: PatrolHabits | None = None,
) -> list[Track]:
    """One track per chief per working day (and some weekend duty) over the last ``days`` days.

    With ``habits``: skippers leave their hot segments out on their skip days (``day_segments``),
    and the day's duty chiefs patrol through their whole shift (so a device is always out between
    the first shift's start and the last one's end, lunch included).
    """
    habits = habits or PatrolHabits()
    graph = _graph(net)
    nodes = net.node_array()
    tracks: list[Track] = []
    calendar = geo.region.calendar
    dates = [end - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]
    shifts = geo.region.warnings.shifts
    for chief in chiefs:
        if not chief.segments:
            continue
        station = geo.squads[chief.squad].station
        station_node = int(np.argmin(((nodes - station) ** 2).sum(axis=1)))
        ends = sorted({net.seg_from[s] for s in chief.segments} | {net.seg_to[s] for s in chief.segments})
        sources = [station_node, *ends]
        row_of = {node: i for i, node in enumerate(sources)}
        preds: dict[frozenset[int], np.ndarray] = {}  # per set of avoided segments

        interval = float(rng.choice([10, 15, 20, 30]))
        speed = SPEED_KMH[chief.mode]
        urban = geo.squads[chief.squad].urban
        for day in dates:
            duty = [k for k in range(len(shifts)) if chief.code in habits.duty.get((day, k), [])]
            on_duty = calendar.is_working_day(day) or rng.random() < 0.2
            absent = not on_duty or rng.random() < 0.08  # leave, meetings
            if absent and not duty:
                continue
            segments, weights = day_segments(chief, day, habits)
            avoid = frozenset(set(chief.segments) - set(segments))
            if avoid not in preds:
                preds[avoid] = dijkstra(_without(graph, net, avoid), indices=sources, return_predecessors=True)[1]
            pred = preds[avoid]
            if duty:  # through the whole shift, from its start (a few minutes early) to a little past its end
                sessions = [
                    (shifts[k][0] * 60 - float(rng.uniform(1, 6)), (shifts[k][1] - shifts[k][0]) * 60.0 + 10)
                    for k in duty
                ]
            else:
                clocks = [8.5, 14.5] if rng.random() < 0.55 else [8.5]
                sessions = [(h * 60 + rng.integers(-1800, 1800) / 60, float(rng.uniform(45, 100))) for h in clocks]
            for start_min, minutes in sessions:
                end_min = min(start_min + minutes, 24 * 60 - 1)  # a duty session is cut at the shift's end
                budget = minutes * 60 * speed / 3.6
                node = station_node
                parts: list[np.ndarray] = [nodes[node][None, :]]
                visited: list[int] = []
                begins: list[float] = []  # distance along the line where each visited segment begins
                walked = 0.0
                while walked < budget:
                    s = int(rng.choice(segments, p=weights))
                    a, b = (net.seg_from[s], net.seg_to[s]) if rng.random() < 0.5 else (net.seg_to[s], net.seg_from[s])
                    path = _path_nodes(pred, row_of[node], a)  # node is the station or a segment end
                    if len(path) > 1:
                        parts.append(nodes[path[1:]])
                    coords = net.seg_coords[s] if a == net.seg_from[s] else net.seg_coords[s][::-1]
                    parts.append(coords[1:])
                    visited.append(s)
                    walked += float(np.hypot(*np.diff(nodes[path], axis=0).T).sum()) if len(path) > 1 else 0.0
                    begins.append(walked)
                    walked += net.seg_length[s]
                    node = b
                line = np.vstack(parts)
                if len(line) < 2:
                    continue
                local = np.datetime64(day) + np.timedelta64(round(start_min * 60), "s")
                until = (end_min - start_min) * 60 if duty else None  # duty ends with the shift
                t, x, y, v, hd, stops, reached = _sample(
                    rng, line, local - UTC_OFFSET, speed, interval, int(rng.integers(0, 4)), urban, until
                )
                visited = [s for s, b in zip(visited, begins, strict=True) if b < reached]
                track = Track(chief.code, day, t, x, y, v, hd, visited, stops=stops)
                # a device on duty is kept charged: it sleeps less often than one on a short round
                tracks.append(_noise(rng, track, 0.004 if urban else 0.002, 0.2 if duty else 0.8))
    return _merge_by_day(tracks)


def _merge_by_day(tracks: list[Track]) -> list[Track]:
    """Morning and afternoon sessions of one subject on one day in one track."""
    merged: dict[tuple[str, dt.date], Track] = {}
    for tr in tracks:
        key = (tr.subject, tr.day)
        if key not in merged:
            merged[key] = tr
            continue
        m = merged[key]
        for name in ("t", "x", "y", "speed_kmh", "heading"):
            setattr(m, name, np.r_[getattr(m, name), getattr(tr, name)])
        m.segments += tr.segments
        m.jumps += tr.jumps
        m.gaps += tr.gaps
        m.stops += tr.stops
    return list(merged.values())


DILIGENT_ROUTES = 0.3  # share of the routes whose crew sweeps every planned segment
HABIT_MISS = (0.1, 0.35)  # other routes: share of their segments (the far end) never swept
DAY_MISS_P, DAY_MISS = 0.35, (0.05, 0.25)  # some days a crew also turns back early by this share
LATE_ROUTES = 0.25  # share of routes whose crew often starts the morning shift late
LATE_P, LATE_MIN = 0.5, (40, 80)  # how often, and by how many minutes past the scheduled start
NOT_STARTED_P = (0.02, 0.08)  # a shift not driven at all: punctual routes / late routes


@dataclass
class RouteShift:
    """One scheduled shift of a route on one day as driven (planted truth)."""

    route: str
    vehicle: str
    day: dt.date
    scheduled: str  # "05:00"
    late_min: float  # minutes past the scheduled start the sweep began (NaN: not driven)
    swept: list[int]  # distinct segments swept
    missed: list[int]  # distinct planned segments not swept


def _swept_walk(route: Route, keep: float, head: float) -> tuple[np.ndarray, list[int]]:
    """The stretch of the route a crew sweeps: from share ``head`` to share ``keep`` of its segments."""
    n = len(route.segments)
    first = min(int(n * head), n - 1)
    last = max(first + 1, int(np.ceil(n * keep)))
    cuts = route.cuts
    return route.line[cuts[first] : cuts[last] + 1], route.segments[first:last]


def sanitation_tracks(
    geo: Geography, routes: list[Route], rng: np.random.Generator, end: dt.date, days: int
) -> tuple[list[Track], list[RouteShift]]:
    """Each route's vehicle sweeping its route in every shift of the last ``days`` days.

    Planted: most crews never sweep the far end of their route (a share per route), some days
    they turn back earlier; some routes often start the morning shift late (past the grace of the
    ``route_not_started`` warning; always on the last day), a few shifts are not driven at all (one
    afternoon shift on the last day). Returns the tracks and, per route, day and shift, what was driven.
    """
    tracks: list[Track] = []
    driven: list[RouteShift] = []
    dates = [end - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]
    habit = {r.code: 1.0 if rng.random() < DILIGENT_ROUTES else 1.0 - rng.uniform(*HABIT_MISS) for r in routes}
    late_prone = {r.code for r in routes if rng.random() < LATE_ROUTES}
    skip_afternoon = next((r.code for r in routes if len(r.shifts) > 1 and r.code not in late_prone), None)
    for route in routes:
        interval = float(rng.choice([10, 15, 30]))
        late = route.code in late_prone
        planned = list(dict.fromkeys(route.segments))
        for day in dates:
            if rng.random() < 0.04:  # vehicle in the workshop
                driven += [RouteShift(route.code, route.vehicle, day, a, np.nan, [], planned) for a, _ in route.shifts]
                continue
            for j, (start, stop) in enumerate(route.shifts):
                not_started = rng.random() < NOT_STARTED_P[late]
                if day == end and j == 1 and route.code == skip_afternoon:
                    not_started = True
                if not_started:
                    driven.append(RouteShift(route.code, route.vehicle, day, start, np.nan, [], planned))
                    continue
                h0, m0 = map(int, start.split(":"))
                h1, m1 = map(int, stop.split(":"))
                delay = rng.uniform(-5, 10)
                if j == 0 and late and (day == end or rng.random() < LATE_P):
                    delay = rng.uniform(*LATE_MIN)
                window = (h1 * 60 + m1) - (h0 * 60 + m0) - max(delay, 0)
                keep = habit[route.code]
                head = 0.0
                if rng.random() < DAY_MISS_P:
                    cut = rng.uniform(*DAY_MISS)
                    if rng.random() < 0.5:
                        keep = max(0.2, keep - cut)
                    else:
                        head = cut
                stretch, swept = _swept_walk(route, keep, head)
                speed = rng.uniform(7, 12)
                # sweep the stretch back and forth until the shift is over; sometimes stop early
                length = float(np.hypot(*np.diff(stretch, axis=0).T).sum())
                laps = max(1, int(window / 60 * speed * 1000 / max(length, 1)))
                share = 1.0 if rng.random() > 0.15 or laps < 2 else rng.uniform(0.6, 1.0)
                line = np.vstack([stretch if k % 2 == 0 else stretch[::-1] for k in range(laps)])
                cut_at = max(2, int(len(line) * share))
                local = np.datetime64(day) + np.timedelta64(h0 * 3600 + m0 * 60 + int(delay * 60), "s")
                t, x, y, v, hd, stops, _ = _sample(
                    rng, line[:cut_at], local - UTC_OFFSET, speed, interval, int(rng.integers(1, 4)), True
                )
                swept_set = list(dict.fromkeys(swept))
                track = Track(route.vehicle, day, t, x, y, v, hd, swept_set, stops=stops)
                tracks.append(_noise(rng, track, 0.001, 0.3))
                missed = [s for s in planned if s not in set(swept_set)]
                driven.append(RouteShift(route.code, route.vehicle, day, start, round(delay, 1), swept_set, missed))
    return _merge_by_day(tracks), driven
