"""Cleaning of raw fixes per subject: exact duplicates, conflicting times, impossible jumps, stationary drift."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl.gps._arrays import range_extent, run_starts, same_as_previous, step_lengths
from etl.gps.config import GpsConfig

NS = 1_000_000_000
MAX_JUMP_PASSES = 10
MAX_SPLIT_PASSES = 50
MAX_EXCURSION = 3  # longest run of bad fixes taken as one multipath excursion


@dataclass
class Cleaned:
    """The result of cleaning: the fixes kept, the rejected ones with their reason, what was collapsed.

    ``kept`` is sorted by ``key`` then ``ts``; ``rejected`` maps index labels of the input frame to a
    reason; ``collapsed`` holds the index labels of fixes folded into the representative fixes of a stop.
    """

    kept: pd.DataFrame
    rejected: dict[int, str] = field(default_factory=dict)
    collapsed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    stats: dict[str, int] = field(default_factory=dict)


def clean(frame: pd.DataFrame, config: GpsConfig, anchors: pd.DataFrame | None = None) -> Cleaned:
    """Clean the fixes of any number of subjects (column ``key`` identifies the subject).

    Steps, each vectorised over all subjects at once:

    1. Exact duplicates (same subject, time and position) are rejected; a second fix at the same
       time but another position is rejected as conflicting (the first one read is kept).
    2. Impossible jumps: a fix reached from its previous fix and left to its next one faster than
       ``max_speed_mps`` (multipath spikes) is rejected, repeated until none is left.
    3. Stationary drift: fixes that stay within ``drift_radius_m`` for ``drift_window_s`` while the
       subject stands still form a stop; it is kept as two fixes at the stop's mean position, at
       its first and last time (so dwell time is kept and drift does not become movement). The
       fixes in between are counted as collapsed (loaded into the representative fixes).

    Parameters
    ----------
    frame
        Fixes with ``key`` (int subject code), ``ts`` (ns), ``x``/``y`` (metres), ``lon``/``lat``, ``file``, ``row``.
    config
        Thresholds.
    anchors
        Fixes already stored (same columns, index labels not in ``frame``): the jump check measures
        the first fixes of each subject from them, so a spike at the start of a batch is caught;
        they are never rejected nor returned.
    """
    rejected: dict[int, str] = {}
    stats = {"duplicates": 0, "conflicts": 0, "jumps": 0, "stops": 0, "collapsed": 0}
    data = frame.sort_values(["key", "ts", "file", "row"], kind="stable")

    key = data["key"].to_numpy()
    ts = data["ts"].to_numpy()
    same_time = same_as_previous(key) & same_as_previous(ts)
    if same_time.any():
        lon, lat = data["lon"].to_numpy(), data["lat"].to_numpy()
        first = run_starts(~same_time)
        exact = same_time & (lon == lon[first]) & (lat == lat[first])
        labels = data.index.to_numpy()
        for label in labels[exact]:
            rejected[int(label)] = "duplicate fix: same subject, time and position as another fix read before"
        for label, origin in zip(labels[same_time & ~exact], labels[first][same_time & ~exact], strict=True):
            src = frame.loc[origin]
            rejected[int(label)] = (
                f"conflicting fix: same subject and time as row {int(src['row'])} "
                f"(kept) but at another position ({_distance(frame, label, origin):.0f} m away)"
            )
        stats["duplicates"] = int(exact.sum())
        stats["conflicts"] = int((same_time & ~exact).sum())
        data = data[~same_time]

    if anchors is not None and len(anchors):
        order = ["key", "ts", "file", "row"]
        both = pd.concat([anchors[[*order, "x", "y"]], data[[*order, "x", "y"]]]).sort_values(order, kind="stable")
        _, jumps = _drop_jumps(both, config.max_speed_mps, anchors.index)
        data = data.drop(index=list(jumps))
    else:
        data, jumps = _drop_jumps(data, config.max_speed_mps)
    rejected.update(jumps)
    stats["jumps"] = len(jumps)

    data, collapsed, stops = _collapse_stops(data, config)
    stats["stops"] = stops
    stats["collapsed"] = len(collapsed)
    return Cleaned(kept=data, rejected=rejected, collapsed=collapsed, stats=stats)


def _distance(frame: pd.DataFrame, a: int, b: int) -> float:
    return float(np.hypot(frame.at[a, "x"] - frame.at[b, "x"], frame.at[a, "y"] - frame.at[b, "y"]))


def _speeds(key: np.ndarray, ts: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Speed from the previous fix of the same subject (NaN for the first)."""
    v = np.full(len(key), np.nan)
    if len(key) > 1:
        dt = np.diff(ts) / NS
        with np.errstate(divide="ignore", invalid="ignore"):
            v[1:] = step_lengths(x, y)[1:] / dt
        v[~same_as_previous(key)] = np.nan
    return v


def _drop_jumps(data: pd.DataFrame, limit: float, fixed: pd.Index | None = None) -> tuple[pd.DataFrame, dict[int, str]]:
    """Reject excursions of up to ``MAX_EXCURSION`` fixes reached and left faster than ``limit``.

    Fixes labelled in ``fixed`` (already stored) are measured from but never rejected; a subject's
    last fix reached too fast from a stored one is a jump even with no fix after it.

    An excursion ``i … i+k-1`` is reached from fix ``i-1`` too fast, left to fix ``i+k`` too fast,
    while going straight from ``i-1`` to ``i+k`` is plausible. At the ends of a track a single fix
    is a jump when the step to (from) it is too fast and the next (previous) step is plausible.
    """
    rejected: dict[int, str] = {}
    for _ in range(MAX_JUMP_PASSES):
        key, ts = data["key"].to_numpy(), data["ts"].to_numpy()
        x, y = data["x"].to_numpy(), data["y"].to_numpy()
        n = len(key)
        v_in = _speeds(key, ts, x, y)
        fast = v_in > limit
        anchor_speed = np.full(n, np.nan)  # speed from the last plausible fix, for the reason
        jump = np.zeros(n, dtype=bool)
        for k in range(1, MAX_EXCURSION + 1):
            if n < k + 2:
                break
            a = np.arange(0, n - k - 1)  # fix before the excursion
            b = a + k + 1  # fix after it
            same = key[a] == key[b]
            dt = (ts[b] - ts[a]) / NS
            straight = np.hypot(x[b] - x[a], y[b] - y[a]) / dt
            hit = same & fast[a + 1] & fast[b] & (straight <= limit)
            for m in range(k):
                jump[a[hit] + 1 + m] = True
                inner = a[hit] + 1 + m
                anchor_speed[inner] = np.hypot(x[inner] - x[a[hit]], y[inner] - y[a[hit]]) / (
                    (ts[inner] - ts[a[hit]]) / NS
                )
        v_out = np.append(v_in[1:], np.nan)
        first = np.isnan(v_in) & ~np.isnan(v_out)
        last = np.isnan(v_out) & ~np.isnan(v_in)
        next_ok = np.append(v_in[2:] <= limit, [False, False])[:n]
        prev_ok = np.concatenate([[False, False], v_in[1:-1] <= limit])[:n] if n > 2 else np.zeros(n, bool)
        ends = (first & (v_out > limit) & next_ok) | (last & fast & prev_ok)
        anchor_speed[ends] = np.where(first[ends], v_out[ends], v_in[ends])
        jump |= ends
        if fixed is not None:  # a lone new fix too fast from a stored one is the jump; stored fixes never are
            is_fixed = data.index.isin(fixed)
            after_fixed = np.concatenate([[False], is_fixed[:-1]])
            lone = last & fast & after_fixed
            anchor_speed[lone] = v_in[lone]
            jump = (jump | lone) & ~is_fixed
        if not jump.any():
            break
        for label, speed in zip(data.index[jump], anchor_speed[jump], strict=True):
            rejected[int(label)] = (
                f"impossible jump: {speed:.0f} m/s from the nearest plausible fix (limit {limit:g} m/s)"
            )
        data = data[~jump]
    return data, rejected


def _collapse_stops(data: pd.DataFrame, config: GpsConfig) -> tuple[pd.DataFrame, np.ndarray, int]:
    n = len(data)
    if n < 3:
        return data, np.zeros(0, dtype=np.int64), 0
    key, ts = data["key"].to_numpy(), data["ts"].to_numpy()
    x, y = data["x"].to_numpy(), data["y"].to_numpy()
    window_ns = int(config.drift_window_s * NS)
    diameter = 2.0 * config.drift_radius_m
    # time key that never lets a window cross from one subject to the next
    order_key = key.astype(np.int64) * (1 << 44) + (ts - ts.min()) // 1_000_000
    window_ms = window_ns // 1_000_000
    idx = np.arange(n)
    ahead = np.searchsorted(order_key, order_key + window_ms, side="right") - 1
    behind = np.searchsorted(order_key, order_key - window_ms, side="left")

    def compact(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        x0, x1 = range_extent(x, left, right)
        y0, y1 = range_extent(y, left, right)
        long_enough = (ts[right] - ts[left]) * 2 >= window_ns
        return long_enough & (np.hypot(x1 - x0, y1 - y0) <= diameter)

    stationary = compact(idx, ahead) | compact(behind, idx)
    gap_ok = np.zeros(n, dtype=bool)
    gap_ok[1:] = (np.diff(ts) <= config.trip_gap_s * NS) & (key[1:] == key[:-1])
    starts = stationary & ~(np.append(False, stationary[:-1]) & gap_ok)
    run = np.where(stationary, run_starts(starts), -1)
    # the core of a run: from its first to its last fix within the radius of the run's median point;
    # the edges of a run (arriving, leaving) stay as they are
    where = np.flatnonzero(stationary)
    table = pd.DataFrame({"run": run[where], "x": x[where], "y": y[where]})
    centre = table.groupby("run")[["x", "y"]].transform("median")
    near = np.hypot(table["x"] - centre["x"], table["y"] - centre["y"]).to_numpy() <= config.drift_radius_m
    near_pos = pd.Series(where[near], index=run[where][near])
    first_near = near_pos.groupby(level=0).min()
    last_near = near_pos.groupby(level=0).max()
    cluster = np.full(n, -1, dtype=np.int64)
    core_start = np.zeros(n, dtype=bool)
    core_start[first_near.to_numpy()] = True
    inside_core = np.zeros(n + 1, dtype=np.int64)
    np.add.at(inside_core, first_near.to_numpy(), 1)
    np.add.at(inside_core, last_near.to_numpy() + 1, -1)
    in_core = np.cumsum(inside_core)[:n] > 0
    cluster[in_core] = run_starts(core_start)[in_core]
    all_near = np.zeros(n, dtype=bool)
    all_near[where[near]] = True
    creeping = pd.Series(~all_near[in_core]).groupby(cluster[in_core]).any()
    creeping = creeping[creeping].index.to_numpy()
    # a core that wanders farther than the radius (slow walking) is split into successive stops
    slow = np.isin(cluster, creeping)
    starts = core_start.copy()
    for _ in range(MAX_SPLIT_PASSES):
        if not slow.any():
            break
        groups = pd.DataFrame({"g": cluster[slow], "x": x[slow], "y": y[slow]}).groupby("g")
        xs, ys = groups["x"], groups["y"]
        spread = np.hypot(xs.cummax() - xs.cummin(), ys.cummax() - ys.cummin()).to_numpy()
        over = spread > diameter
        if not over.any():
            break
        positions = np.flatnonzero(slow)[over]
        first_over = positions[~pd.Series(cluster[positions]).duplicated().to_numpy()]
        starts[first_over] = True
        cluster = np.where(in_core, run_starts(starts), -1)
    else:
        cluster[slow] = -1  # could not resolve: leave those fixes as they are
    stationary = cluster >= 0
    members = pd.Series(cluster[stationary]).value_counts()
    big = members[members >= 3].index.to_numpy()
    in_stop = np.isin(cluster, big) & stationary
    if not in_stop.any():
        return data, np.zeros(0, dtype=np.int64), 0
    stop = cluster[in_stop]
    frame = pd.DataFrame(
        {
            "stop": stop,
            "x": x[in_stop],
            "y": y[in_stop],
            "lon": data["lon"].to_numpy()[in_stop],
            "lat": data["lat"].to_numpy()[in_stop],
        }
    )
    means = frame.groupby("stop")[["x", "y", "lon", "lat"]].mean()
    positions = np.flatnonzero(in_stop)
    first = ~pd.Series(stop).duplicated(keep="first").to_numpy()
    last = ~pd.Series(stop).duplicated(keep="last").to_numpy()
    representative = positions[first | last]
    middle = positions[~(first | last)]
    data = data.copy()
    for column in ("x", "y", "lon", "lat"):
        values = data[column].to_numpy().copy()
        values[representative] = means[column].reindex(cluster[representative]).to_numpy()
        data[column] = values
    collapsed = data.index.to_numpy()[middle]
    keep = np.ones(n, dtype=bool)
    keep[middle] = False
    return data[keep], collapsed, len(big)
