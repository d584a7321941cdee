"""Small vectorised helpers over fixes sorted by subject and time: neighbours, runs, window extents."""

from __future__ import annotations

import numpy as np


def same_as_previous(group: np.ndarray) -> np.ndarray:
    """True where the element belongs to the same group as the one before it."""
    out = np.zeros(len(group), dtype=bool)
    out[1:] = group[1:] == group[:-1]
    return out


def run_starts(starts: np.ndarray) -> np.ndarray:
    """Index of the start of the run each element belongs to, given the boolean run starts."""
    index = np.where(starts, np.arange(len(starts)), 0)
    return np.maximum.accumulate(index) if len(index) else index


def step_lengths(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance from each point to the one before it (0 for the first)."""
    d = np.zeros(len(x))
    d[1:] = np.hypot(np.diff(x), np.diff(y))
    return d


def range_extent(values: np.ndarray, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum of ``values[left[i]:right[i] + 1]`` for every i (a sparse table, O(n log w)).

    ``left <= right`` everywhere; ``w`` is the longest range.
    """
    if len(values) == 0:
        return values.copy(), values.copy()
    length = right - left + 1
    levels = int(np.floor(np.log2(length.max()))) + 1
    lows, highs = [values], [values]
    for level in range(1, levels):
        step = 1 << (level - 1)
        low, high = lows[-1].copy(), highs[-1].copy()
        low[:-step] = np.minimum(lows[-1][:-step], lows[-1][step:])
        high[:-step] = np.maximum(highs[-1][:-step], highs[-1][step:])
        lows.append(low)
        highs.append(high)
    k = np.floor(np.log2(length)).astype(np.int64)
    other = right - (1 << k) + 1
    low_table, high_table = np.stack(lows), np.stack(highs)
    return (
        np.minimum(low_table[k, left], low_table[k, other]),
        np.maximum(high_table[k, left], high_table[k, other]),
    )
