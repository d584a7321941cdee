"""How much of their time limit the closed cases of the window used: counts per bin and procedure type;
and whether the window's due times were counted in a year the holiday calendar lacks.

Aggregates (counts and a note, no case row), so every scope may read them; the squad page draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._filters import case_where
from layers._frames import read_frame
from layers.base import LayerParams
from layers.stats.response_time import (
    LIMIT_BIN,
    TIME_USED_LABELS,
    calendar_note,
    time_used_counts,
    time_used_percent,
    uncovered_years,
)


@dataclass(frozen=True)
class TimeUsed:
    """Closed cases by the share of their time limit used.

    Attributes
    ----------
    labels
        Bin labels (``≤25%`` … ``>200%``); bin ``limit_bin`` is the first past the limit.
    counts
        Procedure type (``其他`` when unknown) → cases per bin, types in sorted order.
    late_share
        Share of the closed cases that used more than their limit (None without closed cases).
    limit_bin
        Index of the first bin past the limit.
    """

    labels: tuple[str, ...] = TIME_USED_LABELS
    counts: dict[str, list[int]] = field(default_factory=dict)
    late_share: float | None = None
    limit_bin: int = LIMIT_BIN


def time_used(conn: Connection, params: LayerParams) -> TimeUsed:
    """Cases received in the window (and filters, within the scope) and closed, by time used against the limit.

    Parameters
    ----------
    conn
        Database connection.
    params
        Window on received time, squads, categories, procedure types and the scope.

    Returns
    -------
    TimeUsed
        Empty counts when no case in the window is closed and has a due time.
    """
    where = case_where(params, get_region().tz, "c")
    frame = read_frame(
        conn,
        f"""SELECT c.received_at, c.closed_at, c.due_at, coalesce(c.procedure_type, '其他') AS procedure_type
            FROM cases c WHERE {where.sql()}
              AND c.closed_at IS NOT NULL AND c.due_at IS NOT NULL AND c.received_at IS NOT NULL""",
        where.binds,
    )
    if frame.empty:
        return TimeUsed()
    for column in ("received_at", "closed_at", "due_at"):
        frame[column] = frame[column].astype("datetime64[ns, UTC]")
    percent = time_used_percent(frame)
    return TimeUsed(counts=time_used_counts(percent, frame["procedure_type"]), late_share=float((percent > 100).mean()))


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
