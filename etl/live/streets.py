"""The street index of a long-running ingest process, rebuilt when the street network changes."""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlalchemy.engine import Connection

from etl.gps.match import StreetIndex

_LOCK = threading.Lock()
_CACHE: dict[tuple[str, float], tuple[tuple[int, int, int], StreetIndex]] = {}


def street_index(conn: Connection, metric_crs: str, tolerance: float) -> StreetIndex:
    """The :class:`StreetIndex` of the loaded streets, reused while their count, id range and last run stay."""
    version = tuple(
        conn.execute(
            text(
                "SELECT count(*), COALESCE(max(id), 0), (SELECT COALESCE(max(id), 0) FROM etl_runs "
                "WHERE job IN ('streets', 'rematch') AND status = 'succeeded') FROM street_segments"
            )
        ).one()
    )
    key = (metric_crs, tolerance)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    index = StreetIndex.from_db(conn, metric_crs, tolerance)
    with _LOCK:
        _CACHE[key] = (version, index)  # type: ignore[assignment]
    return index
