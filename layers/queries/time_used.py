"""How much of their time limit the closed cases of the window used: counts per bin and procedure type;
and whether the window's due times were counted in a year the holiday calendar lacks.

Aggregates (counts and a note, no case row), so every scope may read them; the squad page draws them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._filters import case_where, window_bounds
from layers._frames import read_frame
from layers.base import LayerParams
from layers.stats.response_time import (
    calendar_note,
    time_used_bins,
    time_used_counts,
    time_used_histogram,
    time_used_percent,
    uncovered_years,
)

_EMPTY_EDGES, _EMPTY_LABELS, _EMPTY_LIMIT_BIN = time_used_bins(pd.Series([], dtype=float))


@dataclass(frozen=True)
class TimeUsed:
    """Cases by the share of their time limit used: closed ones (time taken) and open ones (time so far).

    Attributes
    ----------
    labels
        Bin labels (e.g. ``0–1%`` … ``>200%``, chosen from the data); bin ``limit_bin`` is the first past the limit.
    counts
        Closed cases: procedure type (``其他`` when unknown) → cases per bin, types in sorted order.
    open_counts
        Open cases by the time used so far (up to the window's end, or now), per bin; empty without open cases.
    late_share
        Share of the closed cases that used more than their limit (None without closed cases).
    limit_bin
        Index of the first bin past the limit.
    """

    labels: tuple[str, ...] = _EMPTY_LABELS
    counts: dict[str, list[int]] = field(default_factory=dict)
    open_counts: list[int] = field(default_factory=list)
    late_share: float | None = None
    limit_bin: int = _EMPTY_LIMIT_BIN


def time_used(conn: Connection, params: LayerParams, now: dt.datetime | None = None) -> TimeUsed:
    """Cases received in the window (and filters, within the scope) with a due time, by time used against the limit.

    Parameters
    ----------
    conn
        Database connection.
    params
        Window on received time, squads, categories, procedure types and the scope.
    now
        The present (default: the clock); an open case has used the time from its receipt to the
        window's end or to ``now``, whichever is earlier.

    Returns
    -------
    TimeUsed
        Empty counts when no case in the window has a due time.
    """
    tz = get_region().tz
    where = case_where(params, tz, "c")
    frame = read_frame(
        conn,
        f"""SELECT c.received_at, c.closed_at, c.due_at, coalesce(c.procedure_type, '其他') AS procedure_type
            FROM cases c WHERE {where.sql()} AND c.due_at IS NOT NULL AND c.received_at IS NOT NULL""",
        where.binds,
    )
    if frame.empty:
        return TimeUsed()
    for column in ("received_at", "closed_at", "due_at"):
        frame[column] = frame[column].astype("datetime64[ns, UTC]")
    end = window_bounds(params, tz)[1]
    as_of = min(now or dt.datetime.now(dt.UTC), end) if end is not None else now or dt.datetime.now(dt.UTC)
    closed = frame["closed_at"].notna()
    percent = time_used_percent(frame.assign(closed_at=frame["closed_at"].fillna(pd.Timestamp(as_of))))
    edges, labels, limit_bin = time_used_bins(percent)
    return TimeUsed(
        labels=labels,
        counts=time_used_counts(percent[closed], frame.loc[closed, "procedure_type"], edges),
        open_counts=time_used_histogram(percent[~closed], edges) if (~closed).any() else [],
        late_share=float((percent[closed] > 100).mean()) if closed.any() else None,
        limit_bin=limit_bin,
    )


def window_calendar_note(conn: Connection, params: LayerParams) -> str | None:
    """The note for the window's cases whose due times were counted in a year the calendar lacks.

    E.g. ``2027年节假日安排尚未录入，到期时间按周末计算``; None when every year is listed.
    """
    where = case_where(params, get_region().tz, "c")
    frame = read_frame(
        conn,
        f"""SELECT c.received_at, c.procedure_type, c.category, c.due_at
            FROM cases c WHERE {where.sql()} AND c.received_at IS NOT NULL""",
        where.binds,
    )
    for column in ("received_at", "due_at"):
        frame[column] = frame[column].astype("datetime64[ns, UTC]")
    return calendar_note(uncovered_years(frame, get_region()))
