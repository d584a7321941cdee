"""Response-time arithmetic: stage durations, due times from the region's time limits and calendar, on-time shares."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from geo import time_limits
from geo.region import Region

STAGES = {
    "dispatch": ("received_at", "dispatched_at", "受理→派遣"),
    "arrive": ("dispatched_at", "arrived_at", "派遣→到场"),
    "close": ("arrived_at", "closed_at", "到场→办结"),
    "total": ("received_at", "closed_at", "受理→办结"),
    "respond": ("received_at", "arrived_at", "受理→到场"),
}
STATS = {"median": "中位数", "p90": "P90"}

# The one response figure of the wall (map, squad list, colour bar, rotation): the median minutes from
# 受理 (received) to 到场 (arrived) over the squad's cases. 受理→到场 rather than 派遣→到场 because it is
# what the public waits for and what the bureau's 到场时限 counts (``Region.arrive_limit_min``); a median
# over the cases themselves, not a median of per-procedure medians, so every case weighs the same.
ARRIVAL_METRIC = "respond_median_min"
ARRIVAL_LABEL = "受理→到场中位（分钟）"


def due_times(frame: pd.DataFrame, region: Region) -> pd.Series:
    """Due time of each case: ``due_at`` as stored, else computed by :func:`geo.time_limits.due_times`."""
    given = pd.to_datetime(frame["due_at"], utc=True)
    missing = given.isna().to_numpy()
    if missing.any():  # computed only for the cases without a stored due time
        given = given.dt.as_unit("ns")  # a copy, in the unit of the computed times
        given[missing] = time_limits.due_times(frame[missing], region)
    return given


def uncovered_years(frame: pd.DataFrame, region: Region) -> list[int]:
    """Years in which working days of these cases were counted but whose holidays the region does not list.

    ``frame`` needs ``received_at``, ``procedure_type``, ``category`` and ``due_at`` (stored, or
    computed by :func:`due_times`); a ``due`` column, when there (as :func:`due_times` gave it),
    is used as is. Only cases whose limit is in working days count.
    """
    if not len(frame):
        return []
    due = frame["due"] if "due" in frame else due_times(frame, region)
    return list(time_limits.calendar_gaps(frame, region, due))


def calendar_note(years: list[int]) -> str | None:
    """The note shown where due times were counted in years the holiday calendar lacks (None when none)."""
    if not years:
        return None
    return f"{'、'.join(str(y) for y in years)}年节假日安排尚未录入，到期时间按周末计算"


def working_days_taken(frame: pd.DataFrame, region: Region) -> pd.Series:
    """Working days in (received day, closed day] for cases whose limit is in working days, else NaN."""
    tz = region.tz
    received = pd.to_datetime(frame["received_at"], utc=True).dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    closed = pd.to_datetime(frame["closed_at"], utc=True).dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    units = time_limits.limit_units(frame, region)
    wanted = (units == "working_days") & received.notna() & closed.notna()
    out = pd.Series(np.nan, index=frame.index)
    if not wanted.any():
        return out
    first = min(received[wanted].min(), closed[wanted].min())
    last = max(received[wanted].max(), closed[wanted].max())
    calendar_days = pd.date_range(first, last, freq="D")
    # Cumulative working days: W(d) − W(start) counts the working days in (start, d].
    cumulative = np.cumsum([region.calendar.is_working_day(d.date()) for d in calendar_days])
    position = {d: i for i, d in enumerate(calendar_days)}
    a = received[wanted].map(position).to_numpy(int)
    b = closed[wanted].map(position).to_numpy(int)
    out[wanted] = (cumulative[b] - cumulative[a]).astype(float)
    return out


def stage_hours(frame: pd.DataFrame) -> pd.DataFrame:
    """Hours of each stage per case (NaN where a time is missing or the order is impossible)."""
    out = pd.DataFrame(index=frame.index)
    for stage, (a, b, _) in STAGES.items():
        hours = (pd.to_datetime(frame[b], utc=True) - pd.to_datetime(frame[a], utc=True)).dt.total_seconds() / 3600
        out[stage] = hours.where(hours >= 0)
    return out


def summarise(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group: cases received, median and P90 hours of each stage, :data:`ARRIVAL_METRIC` (minutes),
    cases due, on time, on-time share.

    ``frame`` needs the stage columns, ``received_in_window``, ``due_in_window``, ``decided`` and ``on_time``.
    """
    received = frame[frame["received_in_window"]]
    grouped = received.groupby(by)
    table = grouped.size().rename("cases").to_frame()
    for stage in STAGES:
        table[f"{stage}_median"] = grouped[stage].median()
        table[f"{stage}_p90"] = grouped[stage].quantile(0.9)
    table[ARRIVAL_METRIC] = (table["respond_median"] * 60).round(0)  # whole minutes, as shown
    if "working_days" in frame:
        table["working_days_median"] = grouped["working_days"].median()
        table["working_days_p90"] = grouped["working_days"].quantile(0.9)
    due = frame[frame["due_in_window"] & frame["decided"]]
    table = table.join(due.groupby(by).size().rename("due"), how="outer")
    table = table.join(due[due["on_time"]].groupby(by).size().rename("on_time"), how="outer")
    table[["cases", "due", "on_time"]] = table[["cases", "due", "on_time"]].fillna(0).astype(int)
    table["on_time_rate"] = np.where(
        table["due"] > 0, table["on_time"] / table["due"].where(table["due"] > 0, 1), np.nan
    )
    return table.reset_index()


# Bins of the time used against the time limit, in percent (100 = the limit): fine bins within the
# limit, chosen from the data (:func:`time_used_bins`), then these fixed bins past it.
PAST_LIMIT_EDGES = (100.0, 150.0, 200.0, np.inf)
DEFAULT_WITHIN_EDGES = (0.0, 25.0, 50.0, 75.0)
NICE_STEPS = (1.0, 2.0, 5.0, 10.0, 25.0)  # widths of the fine bins, percent of the limit
MAX_FINE_BINS = 10
FINE_QUANTILE = 0.95  # the fine bins cover this share of the cases within the limit


def time_used_bins(percent: pd.Series) -> tuple[tuple[float, ...], tuple[str, ...], int]:
    """Bin edges and labels for the time-used chart, fine where most cases are.

    Within the limit, bins of one nice width (1, 2, 5, 10 or 25 %) cover 95 % of the cases below
    the limit in at most 10 bins; one bin reaches from there to the limit; past it the bins are
    100–150 %, 150–200 % and >200 %. E.g. cases that mostly used under 8 % of their limit get
    0–1 %, 1–2 % … 7–8 %, 8–100 %, 100–150 % …

    Returns
    -------
    tuple
        ``(edges, labels, limit_bin)``: ``limit_bin`` is the index of the first bin past the limit.
    """
    within = percent[(percent >= 0) & (percent < 100)]
    if within.empty:
        fine = DEFAULT_WITHIN_EDGES
    else:
        top = float(within.quantile(FINE_QUANTILE))
        step = next((s for s in NICE_STEPS if math.floor(top / s) + 1 <= MAX_FINE_BINS), NICE_STEPS[-1])
        count = min(math.floor(top / step) + 1, math.ceil(100 / step) - 1)  # the top value in a fine bin
        fine = tuple(step * i for i in range(count + 1))
    edges = (*fine, *PAST_LIMIT_EDGES)
    labels = tuple(f"{a:g}–{b:g}%" if np.isfinite(b) else f">{a:g}%" for a, b in itertools.pairwise(edges))
    return edges, labels, len(fine)


def time_used_percent(frame: pd.DataFrame) -> pd.Series:
    """Time from received to closed as a percentage of the time allowed (received to due), per case.

    ``frame`` holds ``received_at``, ``closed_at`` and ``due_at`` (all set); the time allowed is at
    least one minute.
    """
    used = (frame["closed_at"] - frame["received_at"]).dt.total_seconds()
    allowed = (frame["due_at"] - frame["received_at"]).dt.total_seconds().clip(lower=60)
    return used / allowed * 100


def time_used_histogram(percent: pd.Series, edges: tuple[float, ...]) -> list[int]:
    """Cases per bin of ``edges`` (from :func:`time_used_bins`); a negative time (bad data) counts as 0 %."""
    return np.histogram(percent.clip(lower=0), bins=edges)[0].tolist()


def time_used_counts(percent: pd.Series, kinds: pd.Series, edges: tuple[float, ...]) -> dict[str, list[int]]:
    """:func:`time_used_histogram` per kind (e.g. procedure type), kinds in sorted order."""
    return {str(kind): time_used_histogram(part, edges) for kind, part in percent.groupby(kinds, sort=True)}
