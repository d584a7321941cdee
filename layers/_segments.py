"""Street segments as analysis units: cases per segment (as stored by the ETL), distance weights between segments."""

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


def cases_per_segment(conn: Connection, params: LayerParams, segments: pd.DataFrame) -> pd.Series:
    """Cases in the window per segment of ``segments`` (a ``segment_id`` column), in their order.

    A case counts on the segment the ETL stored for it (``cases.near_segment_id``, the nearest
    segment within the region's limit: :mod:`geo.case_segments`), the same value the drill-down,
    the map highlight and the exports filter on.
    """
    ids = segments["segment_id"].astype(int).to_numpy()
    where = case_where(params, get_region().tz, "c")
    counted = read_frame(
        conn,
        f"""SELECT c.near_segment_id AS segment_id, count(*) AS n FROM cases c
            WHERE c.near_segment_id = ANY(:segment_ids) AND {where.sql()} GROUP BY c.near_segment_id""",
        {**where.binds, "segment_ids": [int(i) for i in ids]},
    )
    return counted.set_index("segment_id")["n"].astype(float).reindex(ids, fill_value=0.0)


def distance_weights(geoms: np.ndarray, distance_m: float) -> sp.csr_matrix:
    """Binary weights between line geometries (WGS-84) within ``distance_m`` metres of each other (no diagonal)."""
    metric = to_metric(np.asarray(geoms), get_region().metric_crs)
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="dwithin", distance=distance_m)
    keep = left != right
    n = len(metric)
    return sp.csr_matrix((np.ones(int(keep.sum())), (left[keep], right[keep])), shape=(n, n))
