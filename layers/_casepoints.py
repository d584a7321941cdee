"""Reading case locations (and a few attributes) for the point-based case layers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._filters import case_where
from layers._frames import read_frame
from layers.base import LayerParams


def case_points(
    conn: Connection,
    params: LayerParams,
    *,
    columns: tuple[str, ...] = (),
    bounds: tuple[dt.datetime | None, dt.datetime | None] | None = None,
) -> pd.DataFrame:
    """Located cases allowed by ``params``: ``lon``, ``lat``, ``received_at`` and the extra ``columns``."""
    where = case_where(params, get_region().tz, "c", bounds=bounds)
    extra = "".join(f", c.{c}" for c in columns)
    sql = f"""SELECT ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, c.received_at {extra}
              FROM cases c WHERE c.geom IS NOT NULL AND {where.sql()}"""
    frame = read_frame(conn, sql, where.binds)
    frame["lon"] = frame["lon"].astype(float)
    frame["lat"] = frame["lat"].astype(float)
    return frame
