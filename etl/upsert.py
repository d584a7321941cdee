"""Merge rows into a table on its natural key: COPY into a stage table, then one INSERT … ON CONFLICT.

Rows whose values equal what is stored are left untouched (not even their ``run_id``), so
loading the same data again changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Table, text
from sqlalchemy.engine import Connection

from etl.progress import stage


@dataclass(frozen=True)
class Merged:
    """What a merge did: rows inserted, rows whose values changed, rows already identical."""

    inserted: int
    updated: int
    unchanged: int

    def counts(self) -> dict[str, int]:
        """The three counts by name, for a run's stats."""
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        return Jsonb(value)
    return value


def merge(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    ignore: Sequence[str] = ("run_id",),
) -> Merged:
    """Insert new rows and update changed ones, matching on ``key`` (a unique constraint).

    Parameters
    ----------
    conn
        The job's connection (inside its transaction).
    table
        Target table (``Model.__table__``).
    rows
        Dicts with the same keys; geometry values as EWKB hex text (``SRID=4326``).
    key
        Columns of the unique constraint to match on.
    ignore
        Columns written but not compared when deciding whether a row changed.
    """
    if not rows:
        return Merged(0, 0, 0)
    with stage(f"writing {len(rows):,} rows to {table.name}"):
        return _merge(conn, table, rows, key, ignore)


def _merge(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str], ignore: Sequence[str]
) -> Merged:
    columns = list(rows[0])
    staging = f"_stage_{uuid.uuid4().hex[:10]}"
    names = ", ".join(f'"{c}"' for c in columns)
    conn.execute(text(f'CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {names} FROM "{table.name}" WITH NO DATA'))
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_value(row[c]) for c in columns])
    compared = [c for c in columns if c not in key and c not in ignore]
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in key)
    where = ""
    if compared:
        left = ", ".join(f't."{c}"' for c in compared)
        right = ", ".join(f'EXCLUDED."{c}"' for c in compared)
        where = f" WHERE ({left}) IS DISTINCT FROM ({right})"
    conflict = ", ".join(f'"{c}"' for c in key)
    action = f"DO UPDATE SET {updates}{where}" if updates else "DO NOTHING"
    result = conn.execute(
        text(
            f'INSERT INTO "{table.name}" AS t ({names}) SELECT {names} FROM {staging} '
            f"ON CONFLICT ({conflict}) {action} RETURNING (xmax = 0) AS inserted"
        )
    ).scalars()
    flags = list(result)
    conn.execute(text(f"DROP TABLE {staging}"))
    inserted = sum(flags)
    return Merged(inserted, len(flags) - inserted, len(rows) - len(flags))
