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
    result = conn.execute(text(sql), binds or {})
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def read_geoframe(
    conn: Connection, sql: str, binds: dict[str, Any] | None = None, wkb_column: str = "wkb"
) -> gpd.GeoDataFrame:
    """Run ``sql`` (which selects WKB as ``wkb_column``) and return a GeoDataFrame in EPSG:4326."""
    frame = read_frame(conn, sql, binds)
    geometry = from_wkb(frame.pop(wkb_column)) if wkb_column in frame else []
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs="EPSG:4326")
