"""GPS tracks: street chiefs on patrol (phone GPS) and sanitation vehicles, with realistic noise.

Noise as real receivers give it: a few metres of jitter, stationary drift while standing,
multipath jumps of 80–300 m for one to three fixes, gaps when the phone sleeps, a 10–30 s
fix interval per device. Times are returned in UTC.
"""

from __future__ import annotations

import datetime as dt
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Fixes along ``line`` at ``speed_kmh`` with ``stops`` pauses; returns t, x, y, speed, heading, stops."""
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
    times = times[times <= duration]
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
    return t, x, y, v, heading, stops


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


def patrol_tracks(
    geo: Geography, net: Network, chiefs: list[Chief], rng: np.random.Generator, end: dt.date, days: int
) -> list[Track]:
    """One track per chief per working day (and some weekend duty) over the last ``days`` days."""
    graph = _graph(net)
    nodes = net.node_array()
    tracks: list[Track] = []
    calendar = geo.region.calendar
    dates = [end - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]
    for chief in chiefs:
        if not chief.segments:
            continue
        station = geo.squads[chief.squad].station
        station_node = int(np.argmin(((nodes - station) ** 2).sum(axis=1)))
        ends = sorted({net.seg_from[s] for s in chief.segments} | {net.seg_to[s] for s in chief.segments})
        sources = [station_node, *ends]
        _, pred = dijkstra(graph, indices=sources, return_predecessors=True)
        row_of = {node: i for i, node in enumerate(sources)}
        weights = np.array(chief.weights)
        weights = weights / weights.sum()
        interval = float(rng.choice([10, 15, 20, 30]))
        speed = SPEED_KMH[chief.mode]
        urban = geo.squads[chief.squad].urban
        for day in dates:
            on_duty = calendar.is_working_day(day) or rng.random() < 0.2
            if not on_duty or rng.random() < 0.08:  # leave, meetings
                continue
            sessions = ["08:30", "14:30"] if rng.random() < 0.55 else ["08:30"]
            for clock in sessions:
                minutes = rng.uniform(45, 100)
                budget = minutes * 60 * speed / 3.6
                node = station_node
                parts: list[np.ndarray] = [nodes[node][None, :]]
                visited: list[int] = []
                walked = 0.0
                while walked < budget:
                    s = int(rng.choice(chief.segments, p=weights))
                    a, b = (net.seg_from[s], net.seg_to[s]) if rng.random() < 0.5 else (net.seg_to[s], net.seg_from[s])
                    path = _path_nodes(pred, row_of[node], a)  # node is the station or a segment end
                    if len(path) > 1:
                        parts.append(nodes[path[1:]])
                    coords = net.seg_coords[s] if a == net.seg_from[s] else net.seg_coords[s][::-1]
                    parts.append(coords[1:])
                    visited.append(s)
                    walked += float(np.hypot(*np.diff(nodes[path], axis=0).T).sum()) if len(path) > 1 else 0.0
                    walked += net.seg_length[s]
                    node = b
                line = np.vstack(parts)
                if len(line) < 2:
                    continue
                h, m = map(int, clock.split(":"))
                local = np.datetime64(day) + np.timedelta64(h * 3600 + m * 60 + int(rng.integers(-1800, 1800)), "s")
                t, x, y, v, hd, stops = _sample(
                    rng, line, local - UTC_OFFSET, speed, interval, int(rng.integers(0, 4)), urban
                )
                track = Track(chief.code, day, t, x, y, v, hd, visited, stops=stops)
                tracks.append(_noise(rng, track, 0.004 if urban else 0.002, 0.8))
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


def sanitation_tracks(
    geo: Geography, routes: list[Route], rng: np.random.Generator, end: dt.date, days: int
) -> list[Track]:
    """Each route's vehicle sweeping its route in every shift of the last ``days`` days."""
    tracks: list[Track] = []
    dates = [end - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]
    for route in routes:
        interval = float(rng.choice([10, 15, 30]))
        for day in dates:
            if rng.random() < 0.04:  # vehicle in the workshop
                continue
            for start, stop in route.shifts:
                h0, m0 = map(int, start.split(":"))
                h1, m1 = map(int, stop.split(":"))
                window = (h1 * 60 + m1) - (h0 * 60 + m0)
                speed = rng.uniform(7, 12)
                # sweep the route back and forth until the shift is over; sometimes stop early
                length = float(np.hypot(*np.diff(route.line, axis=0).T).sum())
                laps = max(1, int(window / 60 * speed * 1000 / max(length, 1)))
                share = 1.0 if rng.random() > 0.15 else rng.uniform(0.3, 0.8)
                laps_line = [route.line if k % 2 == 0 else route.line[::-1] for k in range(laps)]
                line = np.vstack(laps_line)
                cut = max(2, int(len(line) * share))
                local = np.datetime64(day) + np.timedelta64(h0 * 3600 + m0 * 60 + int(rng.integers(-300, 600)), "s")
                t, x, y, v, hd, stops = _sample(
                    rng, line[:cut], local - UTC_OFFSET, speed, interval, int(rng.integers(1, 4)), True
                )
                track = Track(route.vehicle, day, t, x, y, v, hd, list(route.segments), stops=stops)
                tracks.append(_noise(rng, track, 0.001, 0.3))
    return _merge_by_day(tracks)
