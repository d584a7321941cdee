"""Time partitions of ``gps_fixes`` (pg_partman): the settings, and the maintenance run.

``gps_fixes`` is partitioned by ``ts``, one partition per day: ~800,000 fixes a shift-day make a
partition of a few hundred MB, a dashboard window of a day or a week scans 1–8 of them, and the
retention drops a day at a time. pg_partman (schema ``partman``) premakes ``PREMAKE_DAYS`` days
ahead; a default partition catches rows outside every partition. pg_partman's background worker
and pg_cron are not used: :func:`run_gps_maintenance` (``python -m etl maintenance``, a systemd
timer in production, and the ``python -m alerts run`` loop) creates, drops and tidies.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.db.cluster import EXTENSION_SCHEMAS, create_extension_statements
from geo.region import GpsStorage

PARTMAN_SCHEMA = EXTENSION_SCHEMAS["pg_partman"]
GPS_TABLE = "gps_fixes"
GPS_INTERVAL = "1 day"
PREMAKE_DAYS = 14  # partitions made ahead of today: two weeks without maintenance before rows go to the default
MAX_BACKFILL_DAYS = 400  # converting an existing table: no partitions made for rows older than this
RETENTION_DAYS_DEFAULT = GpsStorage.retention_days


def ensure_partman(conn: Connection) -> None:
    """Create the ``partman`` schema and the pg_partman extension in it when missing."""
    for statement in create_extension_statements("pg_partman"):
        conn.execute(text(statement))


def gps_parent(conn: Connection) -> str:
    """``<schema>.gps_fixes`` as pg_partman names it (the schema is the connection's current one)."""
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return f"{schema}.{GPS_TABLE}"


def gps_partitions(conn: Connection) -> list[str]:
    """Names of the day partitions of gps_fixes (not the default), oldest first."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:t AS regclass) AND NOT c.relname LIKE '%\\_default' ORDER BY c.relname"
        ),
        {"t": GPS_TABLE},
    ).scalars()
    return list(rows)


def make_gps_partitions(conn: Connection, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Make the day partitions of gps_fixes covering ``start``…``end`` that are missing (before loading
    fixes of a past period, so they do not go to the default partition); return the names made.

    Parameters
    ----------
    conn
        A connection as the owner of gps_fixes, inside a transaction.
    start, end
        Aware datetimes; every day from ``start``'s to ``end``'s gets its partition.
    """
    before = set(gps_partitions(conn))
    conn.execute(
        text(
            f"SELECT {PARTMAN_SCHEMA}.create_partition_time(:p, ARRAY(SELECT generate_series("
            "date_trunc('day', CAST(:start AS timestamptz)), CAST(:end AS timestamptz), interval '1 day')), false)"
        ),
        {"p": gps_parent(conn), "start": start, "end": end},
    )
    return sorted(set(gps_partitions(conn)) - before)


def scanned_partitions(plan: Any) -> set[str]:
    """The gps_fixes relations (partitions, or the default) an ``EXPLAIN (ANALYZE, FORMAT JSON)`` plan
    read at least once: how the tests and the bench check that a query reads only its window."""
    found: set[str] = set()
    if isinstance(plan, dict):
        if plan.get("Relation Name", "").startswith(GPS_TABLE) and plan.get("Actual Loops", 0) > 0:
            found.add(plan["Relation Name"])
        for value in plan.values():
            found |= scanned_partitions(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= scanned_partitions(value)
    return found


@dataclass(frozen=True)
class MaintenanceReport:
    """What one maintenance run of gps_fixes did."""

    created: tuple[str, ...]  # partitions made (ahead of today, or for rows moved out of the default)
    dropped: tuple[str, ...]  # partitions dropped by the retention
    moved_from_default: int  # rows of the default partition moved into their day's partition
    expired_from_default: int  # rows of the default partition older than the retention, deleted
    default_rows: int  # rows left in the default partition (should be 0)
    partitions: int  # day partitions after the run
    retention_days: int
    seconds: float

    def line(self) -> str:
        """One line for the log and the command line."""
        return (
            f"gps_fixes: {len(self.created)} partitions created, {len(self.dropped)} dropped "
            f"(retention {self.retention_days} days), {self.moved_from_default} rows moved and "
            f"{self.expired_from_default} expired from the default partition, {self.default_rows} left there; "
            f"{self.partitions} partitions; {self.seconds:.2f} s"
        )


def run_gps_maintenance(conn: Connection, retention_days: int = RETENTION_DAYS_DEFAULT) -> MaintenanceReport:
    """Premake partitions, drop those past the retention and empty the default partition.

    Rows in the default partition younger than the retention are moved into day partitions made
    for them (``partman.partition_data_time``); older ones are deleted, as their partition would be
    dropped. Needs the owner of the table (DDL), not the writer role.

    Parameters
    ----------
    conn
        A connection as the owner of gps_fixes, inside a transaction.
    retention_days
        ``[gps] retention_days`` of the region config.
    """
    started = time.perf_counter()
    parent = gps_parent(conn)
    default = f"{GPS_TABLE}_default"
    before = set(gps_partitions(conn))
    conn.execute(
        text(
            f"UPDATE {PARTMAN_SCHEMA}.part_config SET retention = :r, retention_keep_table = false, "
            "retention_keep_index = false, infinite_time_partitions = true WHERE parent_table = :p"
        ),
        {"r": f"{retention_days} days", "p": parent},
    )
    cutoff = "date_trunc('day', now()) - make_interval(days => :days)"
    expired = conn.execute(text(f"DELETE FROM {default} WHERE ts < {cutoff}"), {"days": retention_days}).rowcount
    span = conn.execute(
        text(f"SELECT date_trunc('day', max(ts))::date - date_trunc('day', min(ts))::date + 1 FROM {default}")
    ).scalar()
    moved = 0
    if span:
        moved = conn.execute(
            text(f"SELECT {PARTMAN_SCHEMA}.partition_data_time(:p, p_batch_count => :n, p_analyze => false)"),
            {"p": parent, "n": int(span)},
        ).scalar_one()
    conn.execute(text(f"SELECT {PARTMAN_SCHEMA}.run_maintenance(:p, p_jobmon => false)"), {"p": parent})
    after = gps_partitions(conn)
    left = conn.execute(text(f"SELECT count(*) FROM {default}")).scalar_one()
    return MaintenanceReport(
        created=tuple(sorted(set(after) - before)),
        dropped=tuple(sorted(before - set(after))),
        moved_from_default=int(moved or 0),
        expired_from_default=int(expired or 0),
        default_rows=int(left),
        partitions=len(after),
        retention_days=retention_days,
        seconds=time.perf_counter() - started,
    )
