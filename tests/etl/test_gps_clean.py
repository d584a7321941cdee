"""GPS cleaning and trips: duplicates, conflicting times, multipath jumps, stationary drift, trip gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.gps.clean import clean
from etl.gps.config import GpsConfig
from etl.gps.derive import assign_trips

NS = 1_000_000_000
T0 = 1_740_000_000 * NS


def frame(points: list[tuple[float, float, float]], key: int = 0) -> pd.DataFrame:
    """Fixes of one subject from (seconds, x, y); lon/lat are stand-ins that follow x/y."""
    t, x, y = (np.array(v, dtype=float) for v in zip(*points, strict=True))
    n = len(t)
    return pd.DataFrame(
        {
            "key": key,
            "subject": f"S{key}",
            "kind": "patrol",
            "ts": T0 + (t * NS).astype(np.int64),
            "x": x,
            "y": y,
            "lon": 120 + x * 1e-5,
            "lat": 29 + y * 1e-5,
            "file": 0,
            "row": np.arange(n) + 2,
            "pos": np.arange(n),
            "speed": np.nan,
            "heading": np.nan,
        }
    )


def walking(n: int, start: float = 0.0, step_s: float = 5.0, speed: float = 1.4) -> list[tuple[float, float, float]]:
    return [(start + i * step_s, i * step_s * speed, 0.0) for i in range(n)]


def test_exact_duplicates_are_rejected_and_conflicting_times_too() -> None:
    points = walking(10)
    data = frame([*points, points[3], (points[5][0], 500.0, 500.0)])
    result = clean(data, GpsConfig())
    assert len(result.kept) == 10
    reasons = sorted(result.rejected.values())
    assert len(reasons) == 2
    assert reasons[0].startswith("conflicting fix: same subject and time as row 7")
    assert reasons[1].startswith("duplicate fix")
    assert result.stats["duplicates"] == 1 and result.stats["conflicts"] == 1
    # the copy that was read first is the one kept
    assert set(result.kept.index) == set(range(10))


def test_a_multipath_jump_is_rejected_with_its_speed() -> None:
    points = walking(20)
    points[7] = (points[7][0], points[7][1] + 900.0, 300.0)  # ~950 m off for one fix 5 s apart
    result = clean(frame(points), GpsConfig())
    assert list(result.rejected) == [7]
    assert result.rejected[7].startswith("impossible jump:") and "limit 40 m/s" in result.rejected[7]
    assert 7 not in result.kept.index and len(result.kept) == 19


def test_jumps_at_the_ends_and_in_pairs() -> None:
    points = walking(20)
    points[0] = (0.0, -2000.0, 0.0)
    points[10] = (points[10][0], points[10][1], 700.0)
    points[11] = (points[11][0], points[11][1], 720.0)
    points[19] = (points[19][0], points[19][1], -5000.0)
    result = clean(frame(points), GpsConfig())
    assert sorted(result.rejected) == [0, 10, 11, 19]


def test_a_slower_limit_from_the_config_catches_more() -> None:
    points = walking(10)
    points[4] = (points[4][0], points[4][1], 120.0)  # 24 m/s away and back
    assert clean(frame(points), GpsConfig()).rejected == {}
    assert list(clean(frame(points), GpsConfig(max_speed_mps=15)).rejected) == [4]


def test_stationary_drift_collapses_to_two_fixes_that_keep_the_dwell() -> None:
    rng = np.random.default_rng(1)
    walk_in = walking(12)  # 0..55 s, ends at x = 77
    stop = [(60 + 5 * i, 80 + rng.normal(0, 3), rng.normal(0, 3)) for i in range(120)]  # 10 minutes, ±3 m drift
    walk_out = [(665 + 5 * i, 85 + 7 * i, 0.0) for i in range(12)]
    result = clean(frame(walk_in + stop + walk_out), GpsConfig())
    kept = result.kept
    assert result.stats["stops"] == 1
    # every collapsed fix lies inside the stop, and the kept ones cover its whole time
    collapsed_t = (frame(walk_in + stop + walk_out).loc[result.collapsed, "ts"] - T0) / NS
    assert collapsed_t.min() >= 55 and collapsed_t.max() <= 670
    assert result.stats["collapsed"] == len(result.collapsed) > 100
    assert len(kept) + len(result.collapsed) == len(walk_in) + len(stop) + len(walk_out)
    # the stop is now two fixes at one place, 595 s or more apart: no fake movement inside it
    same_place = kept[(kept["x"].diff() == 0) & (kept["y"].diff() == 0)]
    assert len(same_place) == 1
    end = same_place.index[0]
    start = kept.index[kept.index.get_loc(end) - 1]
    assert (kept.at[end, "ts"] - kept.at[start, "ts"]) / NS >= 590
    assert abs(kept.at[end, "x"] - 80) < 2 and abs(kept.at[end, "y"]) < 2


def test_walking_is_not_mistaken_for_a_stop() -> None:
    result = clean(frame(walking(200)), GpsConfig())
    assert result.stats["stops"] == 0 and len(result.kept) == 200


def test_a_gap_splits_trips_but_a_collapsed_stop_does_not() -> None:
    t = np.array([0, 5, 10, 400, 405, 1000, 1005]) * NS + T0
    x = np.array([0.0, 7, 14, 300, 307, 307, 314])
    y = np.zeros(7)
    trips = assign_trips(np.zeros(7, dtype=int), t, x, y, gap_s=300)
    # 10 → 400 s is a gap (moved 286 m); 405 → 1000 s is a stop at one place (same position)
    assert len(set(trips[:3])) == 1 and trips[3] != trips[2] and trips[5] == trips[4]
    assert trips[0] == T0 // NS and trips[3] == T0 // NS + 400
    other = assign_trips(np.array([0, 0, 1, 1]), t[:4], x[:4], y[:4], gap_s=300)
    assert other[2] != other[1]
