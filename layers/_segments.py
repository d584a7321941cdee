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
from layers._geometry import from_wkb
from layers.base import LayerParams

SNAP_M = 50.0  # a case without a segment is counted on the nearest segment within this distance


def cases_per_segment(
    conn: Connection, params: LayerParams, segments: pd.DataFrame, snap_m: float = SNAP_M
) -> pd.Series:
    """Cases in the window per segment of ``segments`` (``segment_id`` and ``geometry``), in their order.

    Cases already matched by the ETL count on their ``segment_id``; located cases without one count
    on the nearest of ``segments`` within ``snap_m`` metres (an STRtree in the metric CRS).
    """
    ids = segments["segment_id"].astype(int).to_numpy()
    where = case_where(params, get_region().tz, "c")
    matched = read_frame(
        conn,
        f"""SELECT c.segment_id, count(*) AS n FROM cases c
            WHERE c.segment_id IS NOT NULL AND {where.sql()} GROUP BY c.segment_id""",
        where.binds,
    )
    counts = pd.Series(0.0, index=ids)
    if len(matched):
        counts = counts.add(matched.set_index("segment_id")["n"].astype(float), fill_value=0).reindex(ids)
    loose = read_frame(
        conn,
        f"""SELECT ST_AsBinary(ST_Collect(c.geom)) AS wkb FROM cases c
            WHERE c.segment_id IS NULL AND c.geom IS NOT NULL AND {where.sql()}""",
        where.binds,
    )["wkb"].iloc[0]
    if loose is not None and len(ids):
        metric_crs = get_region().metric_crs
        points = to_metric(shapely.get_parts(from_wkb([loose])[0]), metric_crs)
        lines = to_metric(np.asarray(segments.geometry), metric_crs)
        _, nearest = shapely.STRtree(lines).query_nearest(points, max_distance=snap_m, all_matches=False)
        counts = counts + np.bincount(nearest, minlength=len(ids))
    return counts.astype(float)


def distance_weights(geoms: np.ndarray, distance_m: float) -> sp.csr_matrix:
    """Binary weights between line geometries (WGS-84) within ``distance_m`` metres of each other (no diagonal)."""
    metric = to_metric(np.asarray(geoms), get_region().metric_crs)
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="dwithin", distance=distance_m)
    keep = left != right
    n = len(metric)
    return sp.csr_matrix((np.ones(int(keep.sum())), (left[keep], right[keep])), shape=(n, n))
