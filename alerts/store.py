"""The ``warnings`` table: raise, keep and resolve warnings from a rule's findings; acknowledge; read lists and history.

One open warning per rule and subject (a partial unique index), so a condition that holds every
minute raises one warning, not one a minute; the warning resolves itself once its rule no longer finds it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from alerts.rules import Finding
from layers.base import Scope


@dataclass(frozen=True)
class SyncResult:
    """What one rule's findings did to the table."""

    raised: int
    kept: int
    resolved: int


_UPSERT = text(
    """INSERT INTO warnings (rule, severity, subject_kind, subject_id, squad_code, segment_id, title, detail, geom,
                             raised_at, last_seen_at, status)
       SELECT :rule, f.severity, f.subject_kind, f.subject_id, f.squad_code, f.segment_id, f.title, f.detail,
              CASE WHEN f.lon IS NULL OR f.lat IS NULL THEN NULL
                   ELSE ST_SetSRID(ST_MakePoint(f.lon, f.lat), 4326) END,
              :now, :now, 'new'
       FROM jsonb_to_recordset(CAST(:findings AS jsonb)) AS f(
            severity text, subject_kind text, subject_id text, squad_code text, segment_id integer,
            title text, detail jsonb, lon float8, lat float8)
       ON CONFLICT (rule, subject_kind, subject_id) WHERE status <> 'resolved'
       DO UPDATE SET severity = EXCLUDED.severity, title = EXCLUDED.title, detail = EXCLUDED.detail,
                     geom = COALESCE(EXCLUDED.geom, warnings.geom), last_seen_at = EXCLUDED.last_seen_at,
                     squad_code = COALESCE(EXCLUDED.squad_code, warnings.squad_code)
       RETURNING (xmax = 0) AS inserted"""
)

_RESOLVE = text(
    """UPDATE warnings SET status = 'resolved', resolved_at = :now
       WHERE rule = :rule AND status <> 'resolved'
         AND (subject_kind, subject_id) NOT IN (
             SELECT f.subject_kind, f.subject_id
             FROM jsonb_to_recordset(CAST(:findings AS jsonb)) AS f(subject_kind text, subject_id text))"""
)


def sync(conn: Connection, rule: str, findings: list[Finding], now: dt.datetime) -> SyncResult:
    """Make the open warnings of ``rule`` match ``findings`` (inside the caller's transaction).

    Parameters
    ----------
    conn
        A connection in a transaction (the writer role).
    rule
        The rule whose findings these are (every finding must carry it).
    findings
        Every subject for which the rule holds at ``now``.
    now
        The evaluation instant (aware).

    Returns
    -------
    SyncResult
        Warnings raised (new subjects), kept (still found), resolved (no longer found).
    """
    unique = list({(f.subject_kind, f.subject_id): f for f in findings if f.rule == rule}.values())
    payload = json.dumps(
        [
            {
                "severity": f.severity,
                "subject_kind": f.subject_kind,
                "subject_id": f.subject_id,
                "squad_code": f.squad_code,
                "segment_id": f.segment_id,
                "title": f.title,
                "detail": f.detail,
                "lon": f.lon,
                "lat": f.lat,
            }
            for f in unique
        ],
        ensure_ascii=False,
        default=str,
    )
    inserted = [r[0] for r in conn.execute(_UPSERT, {"rule": rule, "now": now, "findings": payload})] if unique else []
    resolved = conn.execute(_RESOLVE, {"rule": rule, "now": now, "findings": payload}).rowcount
    raised = sum(1 for i in inserted if i)
    return SyncResult(raised=raised, kept=len(inserted) - raised, resolved=resolved)


class AcknowledgeError(PermissionError):
    """The warning does not exist, is not open, or lies outside the user's squads."""


def acknowledge(conn: Connection, warning_id: int, username: str, scope: Scope, now: dt.datetime | None = None) -> dict:
    """Mark an open warning acknowledged by ``username`` (new → acknowledged), within ``scope``'s squads.

    Returns
    -------
    dict
        ``id``, ``rule``, ``squad_code`` of the acknowledged warning.

    Raises
    ------
    AcknowledgeError
        When no new warning of that id lies in the scope.
    """
    row = (
        conn.execute(
            text(
                """UPDATE warnings SET status = 'acknowledged', acknowledged_by = :user,
                          acknowledged_at = COALESCE(CAST(:now AS timestamptz), now())
                   WHERE id = :id AND status = 'new'
                     AND (CAST(:squads AS text[]) IS NULL OR squad_code = ANY(CAST(:squads AS text[])))
                   RETURNING id, rule, squad_code"""
            ),
            {"id": int(warning_id), "user": username, "now": now, "squads": _squads(scope)},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise AcknowledgeError(f"warning {warning_id} is not a new warning of this scope")
    return dict(row)


def _squads(scope: Scope) -> list[str] | None:
    return None if scope.squads is None else list(scope.squads)


def open_warnings(
    conn: Connection, scope: Scope, squad: str | None = None, chief_code: str | None = None, limit: int = 50
) -> pd.DataFrame:
    """Open warnings (new or acknowledged), most severe and newest first, within ``scope``.

    ``squad`` narrows to one squad; ``chief_code`` to warnings on that street chief's segments (or
    about the chief's own device). Columns: ``id``, ``rule``, ``severity``, ``subject_kind``,
    ``title``, ``squad_code``, ``status``, ``raised_at``, ``acknowledged_by``, ``acknowledged_at``,
    ``lon``, ``lat`` (no personal data: titles carry none).
    """
    chief = chief_code or scope.chief_code
    rows = conn.execute(
        text(
            """SELECT w.id, w.rule, w.severity, w.subject_kind, w.title, w.squad_code, w.status, w.raised_at,
                      w.acknowledged_by, w.acknowledged_at, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat
               FROM warnings w
               WHERE w.status <> 'resolved'
                 AND (CAST(:squads AS text[]) IS NULL OR w.squad_code = ANY(CAST(:squads AS text[])))
                 AND (CAST(:squad AS text) IS NULL OR w.squad_code = :squad)
                 AND (CAST(:chief AS text) IS NULL
                      OR w.segment_id IN (SELECT cs.segment_id FROM chief_segments cs
                                          JOIN street_chiefs c ON c.id = cs.chief_id WHERE c.code = :chief)
                      OR (w.subject_kind = 'officer' AND w.subject_id = :chief)
                      OR (w.subject_kind = 'device' AND w.subject_id = 'patrol:' || :chief))
               ORDER BY CASE w.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                        w.raised_at DESC
               LIMIT :limit"""
        ),
        {"squads": _squads(scope), "squad": squad, "chief": chief, "limit": limit},
    ).mappings()
    columns = ["id", "rule", "severity", "subject_kind", "title", "squad_code", "status", "raised_at"]
    columns += ["acknowledged_by", "acknowledged_at", "lon", "lat"]
    return pd.DataFrame([dict(r) for r in rows], columns=columns)


def history(conn: Connection, squad: str, since: dt.datetime) -> pd.DataFrame:
    """Warnings of ``squad`` raised since ``since``, per rule: ``rule``, ``raised``, ``acknowledged``,
    ``resolved``, ``median_ack_min`` (median minutes from raised to acknowledged)."""
    rows = conn.execute(
        text(
            """SELECT rule, count(*) AS raised,
                      count(acknowledged_at) AS acknowledged,
                      count(resolved_at) AS resolved,
                      percentile_cont(0.5) WITHIN GROUP (
                          ORDER BY extract(epoch FROM acknowledged_at - raised_at) / 60.0
                      ) FILTER (WHERE acknowledged_at IS NOT NULL) AS median_ack_min
               FROM warnings WHERE squad_code = :squad AND raised_at >= :since
               GROUP BY rule ORDER BY raised DESC"""
        ),
        {"squad": squad, "since": since},
    ).mappings()
    return pd.DataFrame(
        [dict(r) for r in rows], columns=["rule", "raised", "acknowledged", "resolved", "median_ack_min"]
    )


def change_token(conn: Connection) -> dict[str, Any]:
    """A cheap fingerprint of the data the rules and the live maps read: newest fix, newest case
    change, newest visit, newest warning change (index-only lookups). Fixes count from the last day
    only, so that just its partitions of gps_fixes are read; older fixes loaded from files show in
    the newest visit."""
    row = (
        conn.execute(
            text(
                """SELECT (SELECT max(id) FROM gps_fixes WHERE ts > now() - interval '1 day'
                                                                AND ts <= now() + interval '1 hour') AS fix,
                          (SELECT max(updated_at) FROM cases) AS case_at,
                          (SELECT max(id) FROM segment_visits) AS visit,
                          (SELECT max(id) FROM warnings) AS warning,
                          (SELECT count(*) FROM warnings WHERE status <> 'resolved') AS open_warnings,
                          (SELECT max(acknowledged_at) FROM warnings WHERE status <> 'resolved') AS ack"""
            )
        )
        .mappings()
        .one()
    )
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}
