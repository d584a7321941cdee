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
    """Located cases allowed by ``params``: ``lon``, ``lat``, ``received_s`` (epoch seconds) and ``columns``.

    Times travel as epoch seconds: building a tz-aware datetime per row costs more than the query.
    """
    where = case_where(params, get_region().tz, "c", bounds=bounds)
    extra = "".join(f", c.{c}" for c in columns)
    sql = f"""SELECT ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
                     extract(epoch FROM c.received_at)::float8 AS received_s {extra}
              FROM cases c WHERE c.geom IS NOT NULL AND {where.sql()}"""
    frame = read_frame(conn, sql, where.binds)
    frame["lon"] = frame["lon"].astype(float)
    frame["lat"] = frame["lat"].astype(float)
    return frame
