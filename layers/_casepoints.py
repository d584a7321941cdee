"""Reading case locations (and a few attributes) for the point-based case layers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._filters import case_where
from layers._frames import read_frame
from layers._geometry import from_wkb
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
    if not columns:
        # One MultiPoint Z (lon, lat, received epoch) in one WKB value: no per-row Python objects.
        sql = f"""SELECT ST_AsBinary(ST_Collect(ST_MakePoint(ST_X(c.geom), ST_Y(c.geom),
                         COALESCE(extract(epoch FROM c.received_at)::float8, 'NaN'::float8)))) AS wkb
                  FROM cases c WHERE c.geom IS NOT NULL AND {where.sql()}"""
        wkb = read_frame(conn, sql, where.binds)["wkb"].iloc[0]
        coords = shapely.get_coordinates(from_wkb([wkb]), include_z=True) if wkb is not None else np.empty((0, 3))
        return pd.DataFrame({"lon": coords[:, 0], "lat": coords[:, 1], "received_s": coords[:, 2]})
    extra = "".join(f", c.{c}" for c in columns)
    sql = f"""SELECT ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
                     extract(epoch FROM c.received_at)::float8 AS received_s {extra}
              FROM cases c WHERE c.geom IS NOT NULL AND {where.sql()}"""
    frame = read_frame(conn, sql, where.binds)
    frame["lon"] = frame["lon"].astype(float)
    frame["lat"] = frame["lat"].astype(float)
    return frame
