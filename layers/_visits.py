"""Segment visits (patrol or sanitation) in a window: per segment totals and per-period coverage by length."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from layers._frames import read_frame

DEFAULT_SHIFTS = ((7, 15), (15, 23))  # local hours [start, end) of the patrol shifts


def visit_totals(
    conn: Connection,
    kind: str,
    segment_ids: Sequence[int],
    bounds: tuple[dt.datetime, dt.datetime],
    lookback_days: int = 30,
) -> pd.DataFrame:
    """Per segment: visits and dwell minutes entered in the window, and the last visit up to its end.

    The last visit is searched at most ``lookback_days`` before the window (older counts as never).
    Returns columns ``segment_id``, ``visits``, ``dwell_min``, ``last_visit`` (aware, or NaT).
    """
    ids = [int(i) for i in segment_ids]
    since = bounds[0] - dt.timedelta(days=lookback_days)
    sql = """SELECT v.segment_id,
                    count(*) FILTER (WHERE v.entered_at >= :start) AS visits,
                    COALESCE(sum(v.dwell_s) FILTER (WHERE v.entered_at >= :start), 0) / 60.0 AS dwell_min,
                    extract(epoch FROM max(v.left_at))::float8 AS last_visit_s
             FROM segment_visits v JOIN unnest(CAST(:ids AS integer[])) AS sel(id) ON sel.id = v.segment_id
             WHERE v.subject_kind = :kind AND v.entered_at >= :since AND v.entered_at < :end
             GROUP BY v.segment_id"""
    binds = {"kind": kind, "ids": ids, "start": bounds[0], "end": bounds[1], "since": since}
    frame = read_frame(conn, sql, binds)
    out = pd.DataFrame({"segment_id": ids}).merge(frame, on="segment_id", how="left")
    out["visits"] = out["visits"].fillna(0).astype(int)
    out["dwell_min"] = out["dwell_min"].fillna(0.0).astype(float)
    out["last_visit"] = pd.to_datetime(out.pop("last_visit_s"), unit="s", utc=True)
    return out


def visited_periods(
    conn: Connection,
    kind: str,
    segment_ids: Sequence[int],
    bounds: tuple[dt.datetime, dt.datetime],
    tz: ZoneInfo,
    shifts: Sequence[tuple[int, int]] | None = None,
) -> pd.DataFrame:
    """Distinct (segment, period) pairs with at least one visit: ``segment_id``, ``day`` and ``shift``.

    The period is the local day of the visit's entry (``shift`` = -1), or with ``shifts`` the shift
    whose hours contain the entry (visits outside every shift are left out).
    """
    ids = [int(i) for i in segment_ids]
    # Days travel as integers (days since 2000-01-01, local): cheaper than a date object per row.
    sql = """SELECT DISTINCT v.segment_id, (v.entered_at AT TIME ZONE :tz)::date - DATE '2000-01-01' AS day,
                    extract(hour FROM v.entered_at AT TIME ZONE :tz)::int AS hour
             FROM segment_visits v JOIN unnest(CAST(:ids AS integer[])) AS sel(id) ON sel.id = v.segment_id
             WHERE v.subject_kind = :kind AND v.entered_at >= :start AND v.entered_at < :end"""
    frame = read_frame(conn, sql, {"kind": kind, "ids": ids, "start": bounds[0], "end": bounds[1], "tz": tz.key})
    epoch = dt.date(2000, 1, 1)
    numbers = frame["day"].astype(int)
    frame["day"] = numbers.map({n: epoch + dt.timedelta(days=int(n)) for n in numbers.unique()})
    if shifts:
        hour = frame["hour"].to_numpy()
        shift = np.full(len(frame), -1)
        for i, (a, b) in enumerate(shifts):
            shift[(hour >= a) & (hour < b)] = i
        frame["shift"] = shift
        frame = frame[frame["shift"] >= 0]
    else:
        frame["shift"] = -1
    return frame.drop(columns="hour").drop_duplicates().reset_index(drop=True)


def coverage_series(
    groups: pd.DataFrame,
    lengths: pd.Series,
    periods: pd.DataFrame,
    days: Sequence[dt.date],
    n_shifts: int = 0,
) -> pd.DataFrame:
    """Length-weighted share of each group's segments visited in each period.

    Parameters
    ----------
    groups
        Columns ``group`` and ``segment_id``: which segments belong to which group (chief, squad, route).
    lengths
        Segment length in metres, indexed by segment id.
    periods
        Output of :func:`visited_periods`.
    days
        Every day of the window (days without visits count as zero coverage).
    n_shifts
        Number of shifts per day (0: periods are days).

    Returns
    -------
    pandas.DataFrame
        ``group``, ``day``, ``shift``, ``covered_m``, ``total_m``, ``share``; one row per group and period.
    """
    shifts = list(range(n_shifts)) if n_shifts else [-1]
    members = groups.assign(length=groups["segment_id"].map(lengths).fillna(0.0).to_numpy())
    totals = members.groupby("group")["length"].sum()
    grid = pd.MultiIndex.from_product([totals.index, list(days), shifts], names=["group", "day", "shift"])
    hits = members.merge(periods, on="segment_id", how="inner")
    covered = hits.groupby(["group", "day", "shift"])["length"].sum()
    out = pd.DataFrame(index=grid).join(covered.rename("covered_m")).fillna({"covered_m": 0.0}).reset_index()
    out["total_m"] = out["group"].map(totals).to_numpy()
    out["share"] = np.where(out["total_m"] > 0, out["covered_m"] / out["total_m"].where(out["total_m"] > 0, 1), 0.0)
    return out


def weekly(series: pd.DataFrame) -> pd.DataFrame:
    """Mean share per group and ISO week (Monday) from :func:`coverage_series`."""
    days = pd.to_datetime(series["day"])
    week = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.date
    return series.assign(week=week).groupby(["group", "week"], as_index=False)["share"].mean()
