"""Street segments as analysis units: cases per segment, distance weights between segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from sqlalchemy.engine import Connection

from geo.region import get_region
from geo.spatial import to_metric
from layers._filters import case_where
from layers._frames import read_frame
from layers.base import LayerParams

SNAP_M = 50.0  # a case without a segment is counted on the nearest segment within this distance


def cases_per_segment(
    conn: Connection, params: LayerParams, segment_ids: np.ndarray, snap_m: float = SNAP_M
) -> pd.Series:
    """Cases in the window per segment (indexed like ``segment_ids``).

    Cases already matched by the ETL count on their ``segment_id``; located cases without one count
    on the nearest of the given segments within ``snap_m`` metres.
    """
    where = case_where(params, get_region().tz, "c")
    sql = f"""SELECT c.segment_id, count(*) AS n FROM cases c
              WHERE c.segment_id IS NOT NULL AND c.segment_id = ANY(:segment_ids) AND {where.sql()}
              GROUP BY c.segment_id
              UNION ALL
              SELECT near.id, count(*) FROM cases c
              CROSS JOIN LATERAL (
                  SELECT s.id FROM street_segments s
                  WHERE s.id = ANY(:segment_ids) AND ST_DWithin(s.geom::geography, c.geom::geography, :snap_m)
                  ORDER BY s.geom <-> c.geom LIMIT 1) near
              WHERE c.segment_id IS NULL AND c.geom IS NOT NULL AND {where.sql()}
              GROUP BY near.id"""
    ids = [int(i) for i in segment_ids]
    frame = read_frame(conn, sql, {**where.binds, "segment_ids": ids, "snap_m": float(snap_m)})
    counts = frame.groupby("segment_id")["n"].sum() if len(frame) else pd.Series(dtype=float)
    return counts.reindex(ids, fill_value=0).astype(float)


def distance_weights(geoms: np.ndarray, distance_m: float) -> sp.csr_matrix:
    """Binary weights between line geometries (WGS-84) within ``distance_m`` metres of each other (no diagonal)."""
    metric = to_metric(np.asarray(geoms), get_region().metric_crs)
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="dwithin", distance=distance_m)
    keep = left != right
    n = len(metric)
    return sp.csr_matrix((np.ones(int(keep.sum())), (left[keep], right[keep])), shape=(n, n))
