"""The street segment each located case counts on: the nearest segment within the region's limit, stored.

"The cases on a segment" has one definition, stored by the ETL in ``cases.near_segment_id`` (and the
distance in ``cases.near_segment_m``): the street segment nearest to the case's point, measured in
the region's metric CRS, when it lies within ``[analysis] case_segment_max_m`` metres (50 m by
default); otherwise none. The ranking of under-patrolled segments, the segment hotspots, the
drill-down and the exports of a segment, the map's highlight of a segment, the street chief's
scope and the patrol-plan prizes all read this one stored value; nothing snaps cases at query time.

Why a column of its own and not ``cases.segment_id``: ``segment_id`` is the geocoder's answer (the
segment whose name and door range the *address* matched), part of the geocode's provenance next to
``geocode_level`` and ``geocode_matched``; it is empty for cases placed by phone coordinates or at
the level of a place, and may lie far from a phone point. ``near_segment_id`` says where the case
*is*. The case job computes it for the cases it loads; the streets job recomputes it for every case
when the network changes; ``python -m etl case-segments`` recomputes it on demand (the demo load
runs it after its jobs, which backfills a database migrated to revision 1301).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.region import Region
from geo.spatial import to_metric

DISTANCE_DECIMALS = 1  # stored distances in decimetres: a recomputation on the same data changes nothing


@dataclass(frozen=True)
class Assigned:
    """What an assignment did: located cases looked at, of them on a segment, and rows changed."""

    cases: int
    on_segment: int
    changed: int


def nearest_segments(
    points: np.ndarray, segment_ids: np.ndarray, segments: np.ndarray, max_m: float, metric_crs: str
) -> tuple[np.ndarray, np.ndarray]:
    """The segment each point counts on: the nearest within ``max_m`` metres (ties: the lowest id).

    Parameters
    ----------
    points
        Shapely points in WGS-84.
    segment_ids
        Ids of ``segments``.
    segments
        Shapely lines in WGS-84.
    max_m
        Largest distance, metres in ``metric_crs``, at which a point still counts on a segment.
    metric_crs
        The region's metric CRS.

    Returns
    -------
    tuple of numpy.ndarray
        Per point the segment id (-1 when none is close enough) and the distance in metres (NaN then).
    """
    ids = np.full(len(points), -1, dtype=np.int64)
    distances = np.full(len(points), np.nan)
    if not len(points) or not len(segments):
        return ids, distances
    metric_points = to_metric(np.asarray(points, dtype=object), metric_crs)
    metric_lines = to_metric(np.asarray(segments, dtype=object), metric_crs)
    (point_index, line_index), found = shapely.STRtree(metric_lines).query_nearest(
        metric_points, max_distance=max_m, return_distance=True, all_matches=True
    )
    candidate_ids = np.asarray(segment_ids, dtype=np.int64)[line_index]
    # Per point the smallest distance, then the lowest id among equals (lexsort: last key first).
    order = np.lexsort((candidate_ids, found, point_index))
    first = np.ones(len(order), dtype=bool)
    first[1:] = point_index[order][1:] != point_index[order][:-1]
    chosen = order[first]
    ids[point_index[chosen]] = candidate_ids[chosen]
    distances[point_index[chosen]] = found[chosen]
    return ids, distances


def assign_case_segments(conn: Connection, region: Region, case_ids: Sequence[int] | None = None) -> Assigned:
    """Store the segment each case counts on (``near_segment_id``, ``near_segment_m``).

    Parameters
    ----------
    conn
        A connection inside the caller's transaction.
    region
        Gives the limit (``region.analysis.case_segment_max_m``) and the metric CRS.
    case_ids
        Only these cases (the ones a case load wrote); None: every case (after the streets changed).

    Returns
    -------
    Assigned
        Located cases looked at, how many count on a segment, and how many rows changed.
    """
    selected = "" if case_ids is None else "WHERE id = ANY(:ids)"
    binds = {} if case_ids is None else {"ids": [int(i) for i in case_ids]}
    cases = conn.execute(
        text(f"SELECT id, ST_AsBinary(geom) AS wkb, near_segment_id, near_segment_m FROM cases {selected} ORDER BY id"),
        binds,
    ).all()
    if not cases:
        return Assigned(0, 0, 0)
    streets = conn.execute(text("SELECT id, ST_AsBinary(geom) AS wkb FROM street_segments ORDER BY id")).all()
    located = [r for r in cases if r.wkb is not None]
    points = shapely.from_wkb([bytes(r.wkb) for r in located])
    lines = shapely.from_wkb([bytes(r.wkb) for r in streets])
    found, distances = nearest_segments(
        points,
        np.array([r.id for r in streets], dtype=np.int64),
        lines,
        region.analysis.case_segment_max_m,
        region.metric_crs,
    )
    wanted: dict[int, tuple[int | None, float | None]] = {r.id: (None, None) for r in cases}
    for row, segment, distance in zip(located, found, distances, strict=True):
        if segment >= 0:
            wanted[row.id] = (int(segment), round(float(distance), DISTANCE_DECIMALS))
    stored = {r.id: (r.near_segment_id, None if r.near_segment_m is None else float(r.near_segment_m)) for r in cases}
    changed = [(i, s, d) for i, (s, d) in wanted.items() if stored[i] != (s, d)]
    if changed:
        conn.execute(
            text(
                """UPDATE cases c SET near_segment_id = u.segment, near_segment_m = u.distance, updated_at = now()
                   FROM unnest(CAST(:ids AS integer[]), CAST(:segments AS integer[]), CAST(:distances AS float8[]))
                        AS u(id, segment, distance)
                   WHERE c.id = u.id"""
            ),
            {
                "ids": [c[0] for c in changed],
                "segments": [c[1] for c in changed],
                "distances": [c[2] for c in changed],
            },
        )
    on_segment = int((found >= 0).sum())
    return Assigned(len(located), on_segment, len(changed))
