"""Trends over time: the share of a day elapsed (partial days), the Mann–Kendall test (vectorised over
rows) and ArcGIS Emerging Hot Spot categories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
from scipy import stats

# ArcGIS Emerging Hot Spot Analysis pattern names (hot and cold), and ours in Chinese.
PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
PATTERN_LABELS = {
    "new": "新增",
    "consecutive": "连续",
    "intensifying": "加强",
    "persistent": "持续",
    "diminishing": "减弱",
    "sporadic": "零星",
    "oscillating": "振荡",
    "historical": "历史",
}
NO_PATTERN = "no_pattern"


def elapsed_share(days: Iterable[dt.date], now: dt.datetime) -> np.ndarray:
    """How much of each local day had passed at ``now``: 1 for past days, 0 for days to come, the
    share of the day for today (a partial day, not a day of zero).

    Parameters
    ----------
    days
        Calendar days in the time zone of ``now``.
    now
        The moment of the figures, timezone-aware (local time of the region).

    Returns
    -------
    numpy.ndarray
        One float in [0, 1] per day.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (local time of the region)")
    today = now.date()
    midnight = dt.datetime.combine(today, dt.time(), now.tzinfo)
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), now.tzinfo)
    today_share = (now - midnight).total_seconds() / (tomorrow - midnight).total_seconds()
    return np.array([1.0 if day < today else 0.0 if day > today else today_share for day in days], dtype=float)


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann–Kendall test of each row of ``series`` (rows × time), with the tie correction of the variance.

    Returns
    -------
    tuple of numpy.ndarray
        ``s`` (the statistic), ``z`` (continuity-corrected) and two-sided ``p`` per row.
    """
    x = np.asarray(series, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    rows, n = x.shape
    s = np.zeros(rows)
    for k in range(1, n):  # Σ_{i<j} sign(x_j − x_i), one lag at a time: O(n²) vectorised over rows
        s += np.sign(x[:, k:] - x[:, :-k]).sum(axis=1)
    # Tie correction: Σ t (t − 1)(2t + 5) over groups of equal values within each row.
    ordered = np.sort(x, axis=1)
    new_group = np.ones((rows, n), dtype=bool)
    new_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(new_group, axis=1) - 1 + (np.arange(rows) * n)[:, None]
    sizes = np.bincount(group.ravel(), minlength=rows * n).reshape(rows, n).astype(float)
    ties = (sizes * (sizes - 1) * (2 * sizes + 5)).sum(axis=1)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.where(np.isfinite(z), z, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return s, z, p


def classify_emerging(
    significant: np.ndarray, z: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray, alpha: float = 0.10
) -> np.ndarray:
    """ArcGIS Emerging Hot Spot category of each location.

    Parameters
    ----------
    significant
        Boolean (locations × time steps): the bin's Gi* is significant.
    z
        Gi* z-scores of the bins (the sign says hot or cold).
    trend_z, trend_p
        Mann–Kendall z and p of each location's Gi* z-score series.
    alpha
        Significance level of the trend.

    Returns
    -------
    numpy.ndarray
        Strings like ``"new_hot"``, ``"persistent_cold"`` or ``"no_pattern"``, following
        ArcGIS's definitions: ≥ 90 % of steps hot with the last one hot → intensifying
        (significant upward trend), diminishing (significant downward trend) or persistent;
        ≥ 90 % hot but not the last → historical; last hot and < 90 %: new (never hot before),
        consecutive (one final run of ≥ 2 hot steps, never hot before it), oscillating (cold at
        some earlier step), else sporadic. Cold categories mirror these.
    """
    sig = np.asarray(significant, dtype=bool)
    z = np.asarray(z, dtype=float)
    hot = sig & (z > 0)
    cold = sig & (z < 0)
    out = np.full(sig.shape[0], NO_PATTERN, dtype=object)
    for kind, this, other, rising in (("hot", hot, cold, 1.0), ("cold", cold, hot, -1.0)):
        labels = _classify_one(this, other, np.sign(trend_z) * rising, trend_p < alpha)
        chosen = labels != NO_PATTERN
        out[chosen] = np.char.add(labels[chosen].astype(str), f"_{kind}")
    return out


def _classify_one(this: np.ndarray, other: np.ndarray, direction: np.ndarray, trend_sig: np.ndarray) -> np.ndarray:
    """Categories for one side (hot or cold); ``direction`` > 0 means intensifying for that side."""
    rows, steps = this.shape
    out = np.full(rows, NO_PATTERN, dtype=object)
    if steps == 0:
        return out
    last = this[:, -1]
    share = this.mean(axis=1)
    mostly = share >= 0.9
    before_last = this[:, :-1].any(axis=1)
    # Length of the final uninterrupted run of significant steps.
    reversed_ = this[:, ::-1]
    run = np.where(reversed_.all(axis=1), steps, np.argmin(reversed_, axis=1))
    # Any significant step before the final run: the running count just before the run starts.
    prefix = np.cumsum(this, axis=1)
    start = steps - run
    before_run = (start > 0) & (prefix[np.arange(rows), np.maximum(start - 1, 0)] > 0)
    other_before = other[:, :-1].any(axis=1)

    out[mostly & ~last] = "historical"
    persistent = mostly & last
    out[persistent & trend_sig & (direction > 0)] = "intensifying"
    out[persistent & trend_sig & (direction < 0)] = "diminishing"
    out[persistent & ~(trend_sig & (direction != 0))] = "persistent"
    rest = last & ~mostly
    out[rest & ~before_last] = "new"
    consecutive = rest & before_last & (run >= 2) & ~before_run
    out[consecutive] = "consecutive"
    remaining = rest & before_last & ~consecutive
    out[remaining & other_before] = "oscillating"
    out[remaining & ~other_before] = "sporadic"
    return out
