"""Writing fixes and visits to PostGIS with binary COPY, built with numpy (no per-row Python)."""

from __future__ import annotations

import queue
import struct
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in microseconds since the Unix epoch
HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
EWKB_POINT_4326 = (0x20000001, 4326)

FIX_COLUMNS = (
    "subject_kind",
    "subject_id",
    "ts",
    "geom",
    "speed_mps",
    "heading",
    "trip_id",
    "segment_id",
    "match_distance_m",
    "source_crs",
    "run_id",
)
VISIT_COLUMNS = (
    "segment_id",
    "subject_kind",
    "subject_id",
    "trip_id",
    "entered_at",
    "left_at",
    "dwell_s",
    "n_fixes",
)

# (name, binary type, value): value is an array, a constant (bytes/int/float) or None for NULL
Field = tuple[str, str, Any]
_FORMATS = {"int4": ">i4", "int8": ">i8", "float8": ">f8", "timestamptz": ">i8"}


def encode_rows(fields: Sequence[Field], n: int) -> bytes:
    """The binary COPY tuples (without header) of ``n`` rows whose NULLs are the same in every row."""
    layout: list[tuple[str, str]] = [("count", ">i2")]
    for name, kind, value in fields:
        layout.append((f"len_{name}", ">i4"))
        if value is None:
            continue
        if kind == "text":
            layout.append((name, f"S{len(value)}"))
        elif kind == "point":
            layout += [(f"{name}_order", "u1"), (f"{name}_type", "<u4"), (f"{name}_srid", "<u4")]
            layout += [(f"{name}_x", "<f8"), (f"{name}_y", "<f8")]
        else:
            layout.append((name, _FORMATS[kind]))
    rows = np.zeros(n, dtype=np.dtype(layout))
    rows["count"] = len(fields)
    for name, kind, value in fields:
        if value is None:
            rows[f"len_{name}"] = -1
        elif kind == "text":
            rows[f"len_{name}"] = len(value)
            rows[name] = value
        elif kind == "point":
            rows[f"len_{name}"] = 25
            rows[f"{name}_order"] = 1
            rows[f"{name}_type"], rows[f"{name}_srid"] = EWKB_POINT_4326
            rows[f"{name}_x"], rows[f"{name}_y"] = value
        else:
            rows[f"len_{name}"] = np.dtype(_FORMATS[kind]).itemsize
            rows[name] = (np.asarray(value) // 1000 - PG_EPOCH_US) if kind == "timestamptz" else value
    return rows.tobytes()


def _groups(labels: list[np.ndarray]) -> list[np.ndarray]:
    """Row positions of each distinct combination of the given integer label arrays."""
    if len(labels[0]) == 0:
        return []
    combined = np.zeros(len(labels[0]), dtype=np.int64)
    for values in labels:
        codes, uniques = pd.factorize(values)
        combined = combined * (len(uniques) + 1) + codes
    order = np.argsort(combined, kind="stable")
    cuts = np.flatnonzero(np.diff(combined[order])) + 1
    return np.split(order, cuts)


def encode_fixes(frame: pd.DataFrame, run_id: int | None) -> bytes:
    """Binary COPY payload of fixes (columns ``key``, ``kind``, ``subject``, ``crs``, ``ts``, ``lon``, ``lat``,
    ``speed``, ``heading``, ``trip``, ``segment``, ``distance``) in the order of :data:`FIX_COLUMNS`."""
    speed, heading = frame["speed"].to_numpy(), frame["heading"].to_numpy()
    segment = frame["segment"].to_numpy()
    nulls = np.isnan(speed) * 1 + np.isnan(heading) * 2 + (segment < 0) * 4
    kind, subject, crs = frame["kind"].to_numpy(), frame["subject"].to_numpy(), frame["crs"].to_numpy()
    ts, lon, lat = frame["ts"].to_numpy(), frame["lon"].to_numpy(), frame["lat"].to_numpy()
    trip, distance = frame["trip"].to_numpy(), frame["distance"].to_numpy()
    parts = [HEADER]
    for index in _groups([frame["key"].to_numpy(), crs, nulls]):
        first = index[0]
        no_speed, no_heading, no_segment = (bool(nulls[first] & bit) for bit in (1, 2, 4))
        fields: list[Field] = [
            ("subject_kind", "text", str(kind[first]).encode()),
            ("subject_id", "text", str(subject[first]).encode()),
            ("ts", "timestamptz", ts[index]),
            ("geom", "point", (lon[index], lat[index])),
            ("speed_mps", "float8", None if no_speed else speed[index]),
            ("heading", "float8", None if no_heading else heading[index]),
            ("trip_id", "int4", trip[index]),
            ("segment_id", "int4", None if no_segment else segment[index]),
            ("match_distance_m", "float8", None if no_segment else distance[index]),
            ("source_crs", "text", str(crs[first]).encode()),
            ("run_id", "int4", None if run_id is None else run_id),
        ]
        parts.append(encode_rows(fields, len(index)))
    parts.append(TRAILER)
    return b"".join(parts)


def encode_visits(frame: pd.DataFrame) -> bytes:
    """Binary COPY payload of visits (``kind``, ``subject``, ``segment``, ``trip``, ``entered``, ``left``,
    ``dwell_s``, ``n_fixes``) in the order of :data:`VISIT_COLUMNS`."""
    parts = [HEADER]
    for index in _groups([frame["kind"].to_numpy(), frame["subject"].to_numpy()]):
        part = frame.iloc[index]
        kind, subject = part["kind"].iloc[0], part["subject"].iloc[0]
        fields: list[Field] = [
            ("segment_id", "int4", part["segment"].to_numpy()),
            ("subject_kind", "text", str(kind).encode()),
            ("subject_id", "text", str(subject).encode()),
            ("trip_id", "int4", part["trip"].to_numpy()),
            ("entered_at", "timestamptz", part["entered"].to_numpy()),
            ("left_at", "timestamptz", part["left"].to_numpy()),
            ("dwell_s", "float8", part["dwell_s"].to_numpy(dtype=float)),
            ("n_fixes", "int4", part["n_fixes"].to_numpy()),
        ]
        parts.append(encode_rows(fields, len(index)))
    parts.append(TRAILER)
    return b"".join(parts)


def copy_sql(table: str, columns: Sequence[str]) -> str:
    """The ``COPY … FROM STDIN (FORMAT BINARY)`` statement for ``columns`` of ``table``."""
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"


def copy_binary(conn: Connection, table: str, columns: Sequence[str], payload: bytes) -> None:
    """Send one binary COPY payload through the connection's psycopg driver connection."""
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(copy_sql(table, columns)) as copy:
        view = memoryview(payload)
        for start in range(0, len(payload), 1 << 22):
            copy.write(view[start : start + (1 << 22)])


class BackgroundCopy:
    """Runs COPY payloads on the job's connection in a thread, so the server inserts while Python works.

    Call :meth:`drain` before using the connection for anything else; :meth:`close` at the end
    re-raises the first error of the thread.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.jobs: queue.Queue[tuple[str, Sequence[str], bytes] | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="gps-copy", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None:
                    copy_binary(self.conn, *job)
            except BaseException as exc:  # handed to the main thread in drain()/close()
                self.error = exc
            finally:
                self.jobs.task_done()

    def submit(self, table: str, columns: Sequence[str], payload: bytes) -> None:
        """Queue one payload (blocks while four are waiting)."""
        self._raise()
        self.jobs.put((table, columns, payload))

    def drain(self) -> None:
        """Wait until every queued payload is written."""
        self.jobs.join()
        self._raise()

    def close(self) -> None:
        """Write what is queued, stop the thread, and raise its error if any."""
        self.jobs.put(None)
        self.thread.join()
        self._raise()

    def close_quietly(self) -> None:
        """Stop the thread after a failure elsewhere, dropping what is queued."""
        self.error = self.error or RuntimeError("load aborted")
        self.jobs.put(None)
        self.thread.join()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error
