"""Merge rows into a table on its natural key: COPY into a stage table, insert the new, update the changed.

The one merge of the ETL (every job that writes on a natural key uses it):

- a column a row does not carry (the key is absent from that row's dict) keeps its stored value,
  so a partial file never erases what it does not mention;
- rows whose values equal what is stored are left untouched (not even their ``run_id``), so
  loading the same data again changes nothing;
- with ``history_run`` every changed field of an existing row is kept in ``change_history``
  (old and new value as JSON, the run, the time), so even a legitimate overwrite loses nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Table, select, text
from sqlalchemy.engine import Connection

from etl.progress import stage

GIVEN = "_given"  # stage-table column: the columns a row carries


@dataclass(frozen=True)
class Merged:
    """What a merge did: rows inserted, rows whose values changed, rows already identical, changed fields."""

    inserted: int
    updated: int
    unchanged: int
    fields: dict[str, int] = field(default_factory=dict)  # column → existing rows whose value changed

    def counts(self) -> dict[str, int]:
        """The three counts by name, for a run's stats."""
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        return Jsonb(value)
    return value


def stored_rows(
    conn: Connection, table: Table, key: str, keys: Iterable[Any], columns: Sequence[str]
) -> dict[Any, dict[str, Any]]:
    """The stored values of ``columns`` of the rows whose ``key`` is in ``keys``, by key.

    Parameters
    ----------
    conn
        The job's connection.
    table
        The table (``Model.__table__``).
    key
        The natural-key column (single column).
    keys
        Key values to look up; missing ones are simply absent from the answer.
    columns
        Columns to return (geometries come back as they are stored, e.g. ``WKBElement``).
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    selected = [table.c[key], *(table.c[c] for c in columns if c != key)]
    found: dict[Any, dict[str, Any]] = {}
    for start in range(0, len(wanted), 10_000):
        chunk = wanted[start : start + 10_000]
        query = select(*selected).where(table.c[key].in_(chunk))
        for row in conn.execute(query).mappings():
            found[row[key]] = dict(row)
    return found


def merge(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    ignore: Sequence[str] = ("run_id",),
    history_run: int | None = None,
) -> Merged:
    """Insert new rows and update changed ones, matching on ``key`` (a unique constraint).

    Parameters
    ----------
    conn
        The job's connection (inside its transaction).
    table
        Target table (``Model.__table__``).
    rows
        Dicts of column → value; geometry values as EWKB hex or EWKT text (``SRID=4326``). A column
        missing from a row's dict keeps its stored value (NULL or its default for a new row). Key
        values must be unique among the rows.
    key
        Columns of the unique constraint to match on.
    ignore
        Columns written but not compared (nor kept in the history) when deciding whether a row changed.
    history_run
        When given, every changed field of an existing row is written to ``change_history`` with this run.
    """
    if not rows:
        return Merged(0, 0, 0)
    with stage(f"writing {len(rows):,} rows to {table.name}"):
        return _merge(conn, table, rows, key, ignore, history_run)


def _merge(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    ignore: Sequence[str],
    history_run: int | None,
) -> Merged:
    columns = list(dict.fromkeys(c for row in rows for c in row))
    missing = [k for k in key if any(k not in row for row in rows)]
    if missing:
        raise ValueError(f"merge into {table.name}: rows without key column(s) {missing}")
    staging = f"_stage_{uuid.uuid4().hex[:10]}"
    names = ", ".join(f'"{c}"' for c in columns)
    conn.execute(text(f'CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {names} FROM "{table.name}" WITH NO DATA'))
    conn.execute(text(f"ALTER TABLE {staging} ADD COLUMN {GIVEN} text[]"))
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {staging} ({names}, {GIVEN}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([*(_value(row.get(c)) for c in columns), [c for c in columns if c in row]])
    conflict = ", ".join(f'"{c}"' for c in key)
    # Only rows whose key is not stored are offered for insert: a row that updates a stored one may
    # leave NOT NULL columns out (NULL in the stage), and PostgreSQL checks those before ON CONFLICT.
    stored = " AND ".join(f't."{c}" = s."{c}"' for c in key)
    inserted = len(
        conn.execute(
            text(
                f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {staging} s '
                f'WHERE NOT EXISTS (SELECT 1 FROM "{table.name}" t WHERE {stored}) '
                f"ON CONFLICT ({conflict}) DO NOTHING RETURNING 1"
            )
        ).all()
    )
    fields = _update(conn, table, staging, columns, key, ignore, history_run)
    conn.execute(text(f"DROP TABLE {staging}"))
    updated = fields.pop("", 0)
    return Merged(inserted, updated, len(rows) - inserted - updated, fields)


def _update(
    conn: Connection,
    table: Table,
    staging: str,
    columns: list[str],
    key: Sequence[str],
    ignore: Sequence[str],
    history_run: int | None,
) -> dict[str, int]:
    """Update existing rows from the stage (given columns only); changed fields by name, "" → rows updated."""
    writable = [c for c in columns if c not in key]
    compared = [c for c in writable if c not in ignore]
    if not compared:
        return {}

    def new(column: str) -> str:
        return f'CASE WHEN \'{column}\' = ANY(s.{GIVEN}) THEN s."{column}" ELSE o."{column}" END'

    sets = [f'"{c}" = {new(c)}' for c in writable]
    if "updated_at" in table.c and "updated_at" not in columns:
        sets.append("updated_at = now()")
    joined = " AND ".join(f't."{k}" = s."{k}" AND o."{k}" = t."{k}"' for k in key)
    old = ", ".join(f'o."{c}"' for c in compared)
    candidate = ", ".join(new(c) for c in compared)
    record_key = " || '|' || ".join(f't."{k}"::text' for k in key)
    returned = ", ".join(f'o."{c}" AS "o_{c}", t."{c}" AS "n_{c}"' for c in compared)
    diffs = ", ".join(
        f'(\'{c}\', "o_{c}" IS DISTINCT FROM "n_{c}", to_jsonb("o_{c}"), to_jsonb("n_{c}"))' for c in compared
    )
    history = ""
    if history_run is not None:
        history = (
            ", kept AS (INSERT INTO change_history (run_id, table_name, record_key, field, old_value, new_value) "
            f"SELECT {int(history_run)}, '{table.name}', record_key, field, old_value, new_value FROM diffs)"
        )
    rows = conn.execute(
        text(
            f'WITH changed AS (UPDATE "{table.name}" AS t SET {", ".join(sets)} '
            f'FROM {staging} AS s, "{table.name}" AS o WHERE {joined} AND ({old}) IS DISTINCT FROM ({candidate}) '
            f"RETURNING {record_key} AS record_key, {returned}), "
            f"diffs AS (SELECT changed.record_key, d.field, d.old_value, d.new_value FROM changed "
            f"CROSS JOIN LATERAL (VALUES {diffs}) AS d(field, differs, old_value, new_value) WHERE d.differs)"
            f"{history} "
            "SELECT field, count(*) AS n FROM diffs GROUP BY field "
            "UNION ALL SELECT '', count(*) FROM changed"
        )
    ).all()
    return {r.field: int(r.n) for r in rows if r.n or r.field == ""}
