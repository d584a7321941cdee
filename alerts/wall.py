"""The wall's warnings list: what a command centre can act on now first, long-overdue cases summed up per squad.

The rule, in one place: a ``case_due`` warning whose case has been past its due time for more than
``[warnings] wall_overdue_hours`` is not listed by itself; each squad gets one line counting them
("另有N件超期超过24小时"). Everything else is listed by severity (紧急, 警告, 提示), then by when it
became actionable, newest first: when it was raised or, for a case past its due time, when it went
past due if that is later (so what became due or was raised today comes before what has waited).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers.base import Scope

_SEVERITY_RANK = "CASE w.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"
_DUE = "CASE WHEN w.rule = 'case_due' THEN CAST(w.detail->>'due_at' AS timestamptz) END"
_LONG_OVERDUE = f"({_DUE} < CAST(:cutoff AS timestamptz))"
# when it became actionable: raised, or (a case) when it went past due, whichever is later
_ACTIONABLE = f"GREATEST(w.raised_at, CASE WHEN {_DUE} <= CAST(:now AS timestamptz) THEN {_DUE} END)"


@dataclass
class WallWarnings:
    """What the wall lists.

    Attributes
    ----------
    rows
        The listed warnings in order: ``id``, ``rule``, ``severity``, ``title``, ``squad_code``, ``raised_at``,
        ``actionable_at`` (raised, or went past due if later).
    overdue
        Per squad, the long-overdue case warnings left out of ``rows``: ``squad_code``, ``squad``
        (its short name), ``n``; most first.
    total
        Every open warning in scope (listed or summed up).
    hours
        The threshold of "long overdue" in hours.
    """

    rows: pd.DataFrame
    overdue: pd.DataFrame
    total: int
    hours: float


def wall_warnings(conn: Connection, scope: Scope, now: dt.datetime | None = None, limit: int = 20) -> WallWarnings:
    """The wall's list at ``now`` within ``scope`` (see the module's rule)."""
    hours = get_region().warnings.wall_overdue_hours
    now = now or dt.datetime.now(dt.UTC)
    binds = {
        "squads": None if scope.squads is None else list(scope.squads),
        "now": now,
        "cutoff": now - dt.timedelta(hours=hours),
        "limit": limit,
    }
    where = (
        "w.status <> 'resolved' AND (CAST(:squads AS text[]) IS NULL OR w.squad_code = ANY(CAST(:squads AS text[])))"
    )
    rows = conn.execute(
        text(
            f"""SELECT w.id, w.rule, w.severity, w.title, w.squad_code, w.raised_at,
                       {_ACTIONABLE} AS actionable_at
                FROM warnings w
                WHERE {where} AND NOT COALESCE({_LONG_OVERDUE}, false)
                ORDER BY {_SEVERITY_RANK}, {_ACTIONABLE} DESC, w.id DESC
                LIMIT :limit"""
        ),
        binds,
    ).mappings()
    listed = pd.DataFrame(
        [dict(r) for r in rows], columns=["id", "rule", "severity", "title", "squad_code", "raised_at", "actionable_at"]
    )
    overdue = conn.execute(
        text(
            f"""SELECT w.squad_code, COALESCE(s.short_name, s.name, '未分派中队') AS squad, count(*) AS n
                FROM warnings w LEFT JOIN squads s ON s.code = w.squad_code
                WHERE {where} AND {_LONG_OVERDUE}
                GROUP BY w.squad_code, s.short_name, s.name ORDER BY n DESC, w.squad_code"""
        ),
        binds,
    ).mappings()
    total = conn.execute(text(f"SELECT count(*) FROM warnings w WHERE {where}"), binds).scalar_one()
    return WallWarnings(
        listed, pd.DataFrame([dict(r) for r in overdue], columns=["squad_code", "squad", "n"]), total, hours
    )
