"""Reading query results into DataFrames, with WKB columns turned into shapely geometries."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from layers._geometry import from_wkb


def read_frame(conn: Connection, sql: str, binds: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run ``sql`` and return its rows as a DataFrame (columns in query order)."""
    # PostgreSQL's JIT compiles for a second or more whenever the planner's cost estimate of a spatial
    # join is high; these queries finish in milliseconds without it.
    conn.execute(text("SET LOCAL jit = off"))
    result = conn.execute(text(sql), binds or {})
    keys = list(result.keys())
    # A text query has no result processors: the driver's tuples are the rows, without building a
    # SQLAlchemy Row per row (several times faster for tens of thousands of rows).
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    if not rows:
        return pd.DataFrame({key: [] for key in keys}, columns=keys)
    # From the tuples at once: several times faster than a column per key built in Python.
    return pd.DataFrame.from_records(rows, columns=keys)


def epoch(column: str, name: str) -> str:
    """SQL selecting the timestamp ``column`` as seconds since the epoch (float8) named ``name``.

    Reading many timestamps as numbers and converting them with :func:`from_epoch` is several times
    faster than building a Python ``datetime`` per value.
    """
    return f"EXTRACT(EPOCH FROM {column})::float8 AS {name}"


def from_epoch(values: pd.Series) -> pd.Series:
    """Seconds since the epoch (float, NaN for none) as UTC timestamps, to the microsecond (NaT for none)."""
    return pd.to_datetime(values.astype(float), unit="s", utc=True).dt.round("us")


def read_geoframe(
    conn: Connection, sql: str, binds: dict[str, Any] | None = None, wkb_column: str = "wkb"
) -> gpd.GeoDataFrame:
    """Run ``sql`` (which selects WKB as ``wkb_column``) and return a GeoDataFrame in EPSG:4326."""
    frame = read_frame(conn, sql, binds)
    geometry = from_wkb(frame.pop(wkb_column)) if wkb_column in frame else []
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs="EPSG:4326")
