"""Recompute the stored due times of cases from the region's current time limits and working-day calendar.

A case's due time is computed when it is loaded (:func:`geo.time_limits.due_at`). When a year is
added to the calendar (the State Council publishes the schedule each November/December) or a time
limit changes, the stored due times of cases already loaded are recomputed here: by the region job
whenever the region config changes, or by ``python -m etl due-times``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from geo.region import Region
from geo.time_limits import calendar_gaps, due_times, limit_keys


@dataclass(frozen=True)
class Recomputed:
    """What a recomputation did: cases changed, and cases still counted in years the calendar lacks."""

    changed: int
    gaps: dict[int, int]


def recompute_due_times(conn: Connection, region: Region) -> Recomputed:
    """Set ``due_at`` and ``time_limit`` of every case to what the region's config gives now.

    Parameters
    ----------
    conn
        A connection inside the caller's transaction.
    region
        The region whose time limits and calendar apply.

    Returns
    -------
    Recomputed
        Cases whose due time or time-limit label changed, and the calendar gaps that remain.
    """
    rows = conn.execute(
        text(
            "SELECT id, received_at, procedure_type, category, due_at, time_limit FROM cases "
            "WHERE received_at IS NOT NULL ORDER BY id"
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "received_at", "procedure_type", "category", "due_at", "time_limit"])
    if frame.empty:
        return Recomputed(0, {})
    due = due_times(frame, region)
    labels = limit_keys(frame, region).map(lambda k: region.time_limit(k).label())
    stored = pd.to_datetime(frame["due_at"], utc=True)
    changed = (due != stored) | (labels != frame["time_limit"])
    changes = [
        {"case_id": int(case_id), "due": when.to_pydatetime(), "label": label}
        for case_id, when, label in zip(frame["id"][changed], due[changed], labels[changed], strict=True)
    ]
    if changes:
        statement = text(
            "UPDATE cases SET due_at = :due, time_limit = :label, updated_at = now() WHERE id = :case_id"
        ).bindparams(bindparam("due"), bindparam("label"), bindparam("case_id"))
        conn.execute(statement, changes)
    return Recomputed(len(changes), calendar_gaps(frame, region, due))
