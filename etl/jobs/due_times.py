"""Recompute the stored due times of cases from the region's current time limits and working-day calendar.

A case's due time is computed when it is loaded (``_case_checks.due_at``). When a year is added to
the calendar (the State Council publishes the schedule each November/December) or a time limit
changes, the stored due times of cases already loaded are recomputed here: by the region job
whenever the region config changes, or by ``python -m etl due-times``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from etl.jobs._case_checks import calendar_gaps, case_time_limit, due_at
from geo.region import Region, TimeLimit


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
            "WHERE received_at IS NOT NULL"
        )
    ).all()
    cache: dict[tuple[dt.date, TimeLimit], dt.datetime] = {}
    changes = []
    for row in rows:
        limit = case_time_limit({"procedure_type": row.procedure_type, "category": row.category}, region)
        day = row.received_at.astimezone(region.tz).date()
        if limit.unit == "hours":
            due = due_at(row.received_at, limit, region)
        else:  # whole days: the same due time for every case received on that local day
            key = (day, limit)
            if key not in cache:
                cache[key] = due_at(row.received_at, limit, region)
            due = cache[key]
        if due != row.due_at or limit.label() != row.time_limit:
            changes.append({"case_id": row.id, "due": due, "label": limit.label()})
    if changes:
        statement = text(
            "UPDATE cases SET due_at = :due, time_limit = :label, updated_at = now() WHERE id = :case_id"
        ).bindparams(bindparam("due"), bindparam("label"), bindparam("case_id"))
        conn.execute(statement, changes)
    gaps = calendar_gaps(
        [(r.received_at, {"procedure_type": r.procedure_type, "category": r.category}) for r in rows], region
    )
    return Recomputed(len(changes), gaps)
