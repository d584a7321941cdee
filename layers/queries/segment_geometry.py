"""The street segments' drawn geometry, once for all maps: ids and coordinates of every segment.

Map traces of whole segments (:func:`layers._geometry.segment_trace`) name segment ids; the browser
draws them from this set, which it loads once per data version (``dashboard.segment_geometry``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy.engine import Connection

from layers._frames import read_frame
from layers._geometry import SEGMENT_SIMPLIFY_DEG, from_wkb, simplified_wkb


@dataclass(frozen=True)
class SegmentGeometry:
    """Every street segment's vertices, WGS-84, in one flat array.

    Segment ``ids[i]`` owns the vertices ``starts[i]:starts[i + 1]`` of ``coords`` (shape ``(n, 2)``,
    lon/lat); ``breaks`` are the vertex positions where a new part of a multi-part segment begins.
    """

    ids: np.ndarray
    starts: np.ndarray
    coords: np.ndarray
    breaks: np.ndarray


def segment_geometry(conn: Connection) -> SegmentGeometry:
    """All street segments by id, simplified as drawn (:data:`layers._geometry.SEGMENT_SIMPLIFY_DEG`)."""
    frame = read_frame(
        conn,
        f"""SELECT s.id AS segment_id, {simplified_wkb("s.geom", SEGMENT_SIMPLIFY_DEG)} AS wkb
            FROM street_segments s WHERE s.geom IS NOT NULL ORDER BY s.id""",
    )
    geoms = from_wkb(frame["wkb"]) if len(frame) else np.array([], dtype=object)
    ids = frame["segment_id"].to_numpy(dtype=np.int64) if len(frame) else np.array([], dtype=np.int64)
    if not len(geoms):
        empty = np.zeros((0, 2))
        return SegmentGeometry(ids, np.zeros(1, dtype=np.int64), empty, np.array([], dtype=np.int64))
    parts, owner = shapely.get_parts(geoms, return_index=True)
    coords, part_of = shapely.get_coordinates(parts, return_index=True)
    vertex_owner = owner[part_of]
    counts = np.bincount(vertex_owner, minlength=len(geoms))
    starts = np.concatenate([[0], np.cumsum(counts)])
    part_starts = np.flatnonzero(np.diff(part_of)) + 1
    breaks = part_starts[vertex_owner[part_starts] == vertex_owner[part_starts - 1]]
    return SegmentGeometry(ids, starts, coords, breaks)
