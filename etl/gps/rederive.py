"""Reading stored fixes back and writing derived trips, matches and visits over them (rematch, overlaps)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from etl.gps.config import GpsConfig
from etl.gps.derive import derive, visits
from etl.gps.fix_writer import HEADER, TRAILER, VISIT_COLUMNS, copy_binary, encode_rows, encode_visits
from etl.gps.match import StreetIndex
from geo.crs import from_wgs84

FETCH_COLUMNS = ["id", "kind", "subject", "ts", "lon", "lat", "speed", "heading", "trip"]
FETCH_SELECT = (
    "SELECT g.id, g.subject_kind, g.subject_id, (extract(epoch FROM g.ts) * 1000000)::bigint, "
    "ST_X(g.geom), ST_Y(g.geom), g.speed_mps, g.heading, g.trip_id FROM gps_fixes g"
)


def copy_out(conn: Connection, query: str, columns: list[str]) -> pd.DataFrame:
    """Run ``query`` with ``COPY … TO STDOUT`` and read the rows into a frame (fast for millions of rows)."""
    driver = conn.connection.driver_connection
    buffer = io.BytesIO()
    with driver.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    if buffer.getbuffer().nbytes == 0:
        return pd.DataFrame({c: [] for c in columns})
    return pd.read_csv(
        buffer,
        sep="\t",
        header=None,
        names=columns,
        na_values=["\\N"],
        keep_default_na=False,
        dtype={"kind": str, "subject": str},
    )


def windows_table(conn: Connection, windows: pd.DataFrame) -> None:
    """Put per-subject time windows (``kind``, ``subject``, ``start``, ``end`` in ns) in temp table ``_gps_windows``."""
    conn.execute(text("DROP TABLE IF EXISTS _gps_windows"))
    conn.execute(text("CREATE TEMP TABLE _gps_windows (k text, s text, a timestamptz, b timestamptz) ON COMMIT DROP"))
    if len(windows):
        conn.execute(
            text(
                "INSERT INTO _gps_windows SELECT * FROM unnest(CAST(:k AS text[]), CAST(:s AS text[]), "
                "CAST(:a AS timestamptz[]), CAST(:b AS timestamptz[]))"
            ),
            {
                "k": windows["kind"].tolist(),
                "s": windows["subject"].tolist(),
                "a": pd.to_datetime(windows["start"], utc=True).dt.to_pydatetime().tolist(),
                "b": pd.to_datetime(windows["end"], utc=True).dt.to_pydatetime().tolist(),
            },
        )
    conn.execute(text("ANALYZE _gps_windows"))


def stored_in_windows(conn: Connection) -> pd.DataFrame:
    """Stored fixes inside the windows of ``_gps_windows``."""
    query = (
        f"{FETCH_SELECT} JOIN _gps_windows w ON g.subject_kind = w.k AND g.subject_id = w.s "
        "AND g.ts BETWEEN w.a AND w.b"
    )
    return copy_out(conn, query, FETCH_COLUMNS)


def _fetch_trips(conn: Connection) -> pd.DataFrame:
    """Stored fixes of every trip that has a fix inside the windows of ``_gps_windows``, sorted."""
    conn.execute(
        text(
            "CREATE TEMP TABLE _gps_trips ON COMMIT DROP AS SELECT DISTINCT g.subject_kind AS k, g.subject_id AS s, "
            "g.trip_id AS t FROM gps_fixes g JOIN _gps_windows w ON g.subject_kind = w.k AND g.subject_id = w.s "
            "AND g.ts BETWEEN w.a AND w.b"
        )
    )
    query = (
        f"{FETCH_SELECT} JOIN _gps_trips t ON g.subject_kind = t.k AND g.subject_id = t.s AND g.trip_id = t.t "
        "ORDER BY g.subject_kind, g.subject_id, g.ts"
    )
    frame = copy_out(conn, query, FETCH_COLUMNS)
    conn.execute(
        text(
            "DELETE FROM segment_visits v USING _gps_trips t WHERE v.subject_kind = t.k AND v.subject_id = t.s "
            "AND v.trip_id = t.t"
        )
    )
    conn.execute(text("DROP TABLE _gps_trips"))
    return frame


def _rederive_frame(
    conn: Connection, frame: pd.DataFrame, streets: StreetIndex, config: GpsConfig, metric_crs: str
) -> tuple[int, int]:
    """Derive trips, matches and visits for fetched fixes; update the fixes that changed, insert the visits."""
    if len(frame) == 0:
        return 0, 0
    frame = frame.sort_values(["kind", "subject", "ts"], kind="stable").reset_index(drop=True)
    frame["key"] = pd.factorize(frame["kind"] + "\x1f" + frame["subject"])[0]
    frame["ts"] = frame["ts"].to_numpy(dtype=np.int64) * 1000
    frame["x"], frame["y"] = from_wgs84(frame["lon"].to_numpy(), frame["lat"].to_numpy(), metric_crs)
    derived = derive(frame, streets, config)
    update = encode_rows(
        [
            ("id", "int8", derived["id"].to_numpy(dtype=np.int64)),
            ("trip", "int4", derived["trip"].to_numpy()),
            ("segment", "int4", derived["segment"].to_numpy()),
            ("distance", "float8", derived["distance"].to_numpy()),
            ("speed", "float8", derived["speed"].to_numpy()),
            ("heading", "float8", derived["heading"].to_numpy()),
        ],
        len(derived),
    )
    conn.execute(
        text(
            "CREATE TEMP TABLE _gps_update (id bigint, trip int, segment int, distance float8, speed float8, "
            "heading float8) ON COMMIT DROP"
        )
    )
    copy_binary(
        conn, "_gps_update", ["id", "trip", "segment", "distance", "speed", "heading"], HEADER + update + TRAILER
    )
    conn.execute(
        text(
            "UPDATE gps_fixes g SET trip_id = u.trip, segment_id = u.segment, match_distance_m = u.distance, "
            "speed_mps = u.speed, heading = u.heading FROM (SELECT id, trip, NULLIF(segment, -1) AS segment, "
            "CASE WHEN segment = -1 THEN NULL ELSE distance END AS distance, NULLIF(speed, 'NaN') AS speed, "
            "NULLIF(heading, 'NaN') AS heading FROM _gps_update) u WHERE g.id = u.id AND "
            "(g.trip_id, g.segment_id, g.match_distance_m, g.speed_mps, g.heading) IS DISTINCT FROM "
            "(u.trip, u.segment, u.distance, u.speed, u.heading)"
        )
    )
    conn.execute(text("DROP TABLE _gps_update"))
    found = visits(derived)
    names = derived.drop_duplicates("key").set_index("key")
    found["kind"] = names["kind"].reindex(found["key"]).to_numpy()
    found["subject"] = names["subject"].reindex(found["key"]).to_numpy()
    if len(found):
        copy_binary(conn, "segment_visits", VISIT_COLUMNS, encode_visits(found))
    return len(derived), len(found)


def rederive_windows(
    conn: Connection, windows: pd.DataFrame, streets: StreetIndex, config: GpsConfig, metric_crs: str
) -> tuple[int, int]:
    """Derive again every stored trip that touches the windows (after new fixes were added next to stored ones).

    Returns
    -------
    fixes, visits
        Fixes derived again and visits written.
    """
    windows_table(conn, windows)
    return _rederive_frame(conn, _fetch_trips(conn), streets, config, metric_crs)


def rematch_all(
    conn: Connection, streets: StreetIndex, config: GpsConfig, metric_crs: str, batch_subjects: int = 200
) -> tuple[int, int]:
    """Derive trips, matches and visits again for every stored fix (after the street network changed).

    Works through the subjects in batches; the caller's transaction makes it all or nothing.

    Returns
    -------
    fixes, visits
        Fixes derived again and visits written.
    """
    subjects = conn.execute(text("SELECT DISTINCT subject_kind, subject_id FROM gps_fixes ORDER BY 1, 2")).all()
    conn.execute(text("DELETE FROM segment_visits"))
    fixes = written = 0
    for start in range(0, len(subjects), batch_subjects):
        batch = subjects[start : start + batch_subjects]
        windows_table(
            conn,
            pd.DataFrame(
                {
                    "kind": [k for k, _ in batch],
                    "subject": [s for _, s in batch],
                    "start": [pd.Timestamp.min.tz_localize("UTC").value] * len(batch),
                    "end": [pd.Timestamp.max.tz_localize("UTC").value] * len(batch),
                }
            ),
        )
        frame = copy_out(
            conn,
            f"{FETCH_SELECT} JOIN _gps_windows w ON g.subject_kind = w.k AND g.subject_id = w.s",
            FETCH_COLUMNS,
        )
        done, found = _rederive_frame(conn, frame, streets, config, metric_crs)
        fixes += done
        written += found
    return fixes, written


def stop_intervals(stored: pd.DataFrame) -> pd.DataFrame:
    """Time spans of collapsed stops among stored fixes: consecutive fixes of a subject at the same place."""
    if len(stored) == 0:
        return pd.DataFrame(columns=["kind", "subject", "start", "end"])
    s = stored.sort_values(["kind", "subject", "ts"])
    same = (
        (s["kind"].to_numpy()[1:] == s["kind"].to_numpy()[:-1])
        & (s["subject"].to_numpy()[1:] == s["subject"].to_numpy()[:-1])
        & (s["lon"].to_numpy()[1:] == s["lon"].to_numpy()[:-1])
        & (s["lat"].to_numpy()[1:] == s["lat"].to_numpy()[:-1])
    )
    first = s.iloc[:-1][same]
    last = s.iloc[1:][same]
    return pd.DataFrame(
        {
            "kind": first["kind"].to_numpy(),
            "subject": first["subject"].to_numpy(),
            "start": first["ts"].to_numpy(dtype=np.int64) * 1000,
            "end": last["ts"].to_numpy(dtype=np.int64) * 1000,
        }
    )


def inside(ts: np.ndarray, keys: Sequence[str], spans: pd.DataFrame, span_keys: Sequence[str]) -> np.ndarray:
    """True where ``ts`` lies strictly inside a span of the same key."""
    result = np.zeros(len(ts), dtype=bool)
    if len(spans) == 0:
        return result
    table = pd.DataFrame({"key": list(span_keys), "start": spans["start"].to_numpy(), "end": spans["end"].to_numpy()})
    for key, group in table.groupby("key"):
        mask = np.asarray(keys) == key
        if not mask.any():
            continue
        t = ts[mask]
        hit = np.zeros(len(t), dtype=bool)
        for a, b in zip(group["start"].to_numpy(), group["end"].to_numpy(), strict=True):
            hit |= (t > a) & (t < b)
        result[mask] = hit
    return result
