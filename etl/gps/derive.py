"""From cleaned fixes to trips, directions of travel, matched segments and segment visits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.gps._arrays import run_starts, same_as_previous, step_lengths
from etl.gps.config import GpsConfig
from etl.gps.match import StreetIndex

NS = 1_000_000_000
SAME_PLACE_M = 0.5  # two fixes this close across a gap are the two ends of a collapsed stop


def assign_trips(key: np.ndarray, ts: np.ndarray, x: np.ndarray, y: np.ndarray, gap_s: float) -> np.ndarray:
    """Trip id of each fix (sorted by subject, time): a new trip after a gap longer than ``gap_s``.

    A gap between two fixes at the same place (the two ends of a collapsed stop) does not split.
    The trip id is the Unix time in seconds of the trip's first fix: stable when the trip is derived
    again, and unique per subject.
    """
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    gap = np.zeros(len(key), dtype=bool)
    gap[1:] = (np.diff(ts) > gap_s * NS) & (step_lengths(x, y)[1:] > SAME_PLACE_M)
    start = ~same_as_previous(key) | gap
    return ts[run_starts(start)] // NS


def motion(
    key: np.ndarray, trip: np.ndarray, ts: np.ndarray, x: np.ndarray, y: np.ndarray, min_move: float
) -> tuple[np.ndarray, np.ndarray]:
    """Direction of travel (radians, NaN when unknown) and speed from the previous fix (m/s, NaN for the first).

    The direction at a fix is from its previous to its next fix in the same trip (one-sided at the
    ends), trusted only when the subject moved at least ``min_move`` metres between them.
    """
    n = len(key)
    group = key.astype(np.int64) * (1 << 32) + trip  # subject and trip in one number
    has_prev = same_as_previous(group)
    has_next = np.append(has_prev[1:], False)
    idx = np.arange(n)
    prev = np.where(has_prev, idx - 1, idx)
    nxt = np.where(has_next, idx + 1, idx)
    dx, dy = x[nxt] - x[prev], y[nxt] - y[prev]
    direction = np.where(np.hypot(dx, dy) >= min_move, np.arctan2(dy, dx), np.nan)
    speed = np.full(n, np.nan)
    dt = (ts[idx] - ts[prev]) / NS
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = np.hypot(x - x[prev], y - y[prev]) / dt
    speed[has_prev] = moved[has_prev]
    return direction, speed


def derive(frame: pd.DataFrame, streets: StreetIndex, config: GpsConfig) -> pd.DataFrame:
    """Add ``trip``, ``segment`` (-1 when unmatched), ``distance``, and fill ``speed``/``heading`` where not reported.

    ``frame`` must be sorted by ``key`` then ``ts`` and have ``x``/``y`` in metres.
    """
    key, ts = frame["key"].to_numpy(), frame["ts"].to_numpy()
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    trip = assign_trips(key, ts, x, y, config.trip_gap_s)
    direction, speed = motion(key, trip, ts, x, y, config.heading_min_move_m)
    reported = frame["heading"].to_numpy()
    # a reported heading (degrees from north) stands in where the track gives no direction
    fallback = np.radians(90.0 - reported)
    direction = np.where(np.isnan(direction), fallback, direction)
    segment, distance = streets.match(x, y, direction, config.match_tolerance_m, config.heading_weight_m)
    out = frame.copy()
    out["trip"] = trip
    out["segment"] = segment
    out["distance"] = distance
    out["speed"] = np.where(np.isnan(out["speed"].to_numpy()), speed, out["speed"].to_numpy())
    computed_heading = (90.0 - np.degrees(direction)) % 360.0
    out["heading"] = np.where(np.isnan(reported), computed_heading, reported)
    return out


def visits(frame: pd.DataFrame) -> pd.DataFrame:
    """Segment visits: runs of consecutive fixes of one subject and trip matched to the same segment.

    ``entered``/``left`` are the times (ns) of the first and last fix of the run, ``dwell_s`` the
    seconds between them, ``n_fixes`` the fixes in the run. Unmatched fixes end a run.

    Returns
    -------
    pandas.DataFrame
        Columns ``key``, ``segment``, ``trip``, ``entered``, ``left``, ``dwell_s``, ``n_fixes``.
    """
    key, trip = frame["key"].to_numpy(), frame["trip"].to_numpy()
    segment, ts = frame["segment"].to_numpy(), frame["ts"].to_numpy()
    n = len(frame)
    if n == 0:
        return pd.DataFrame(columns=["key", "segment", "trip", "entered", "left", "dwell_s", "n_fixes"])
    start = np.ones(n, dtype=bool)
    start[1:] = (key[1:] != key[:-1]) | (trip[1:] != trip[:-1]) | (segment[1:] != segment[:-1])
    first = np.flatnonzero(start)
    last = np.append(first[1:], n) - 1
    matched = segment[first] >= 0
    first, last = first[matched], last[matched]
    return pd.DataFrame(
        {
            "key": key[first],
            "segment": segment[first],
            "trip": trip[first],
            "entered": ts[first],
            "left": ts[last],
            "dwell_s": (ts[last] - ts[first]) / NS,
            "n_fixes": last - first + 1,
        }
    )
