"""Does loaded data look shifted by the GCJ-02 offset? Compare the fit as loaded against the other hypothesis.

GCJ-02 moves points here by about +0.0042° lon and −0.0027° lat (some 500 m). Data loaded as
WGS-84 that really is GCJ-02 (or declared GCJ-02 while really WGS-84) fits the region worse
than it would after (un)doing the offset. The fit is measured against, in this order:

- polygons covering much of the county: intersection over union with the county outline;
- when street segments are loaded (and the data is not the streets themselves): the median
  distance of the data's vertices to the nearest street;
- otherwise: the share of the data's vertices that fall outside the county outline.
"""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.engine import Connection

from etl.validate import allowed_area
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geo.region import Region
from geo.spatial import to_metric

SAMPLE = 4000  # vertices compared at most
MIN_IOU_GAIN = 0.01
MIN_DISTANCE_GAIN_M = 5.0
MIN_OUTSIDE_GAIN = 0.005
MIN_STREETS = 5  # street segments near the data needed to compare against them
STREET_WINDOW_DEG = 0.05


def _shift(geoms: np.ndarray, to_gcj: bool) -> np.ndarray:
    func = wgs84_to_gcj02 if to_gcj else gcj02_to_wgs84

    def xy(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, xy)


def _vertices(geoms: np.ndarray) -> np.ndarray:
    coords = shapely.get_coordinates(geoms)
    if len(coords) > SAMPLE:
        coords = coords[np.linspace(0, len(coords) - 1, SAMPLE).astype(int)]
    return shapely.points(coords)


def _iou(union, outline) -> float:
    return float(shapely.area(shapely.intersection(union, outline)) / shapely.area(shapely.union(union, outline)))


def _street_distance(points: np.ndarray, streets: np.ndarray, crs: str) -> float:
    tree = shapely.STRtree(streets)
    metric = to_metric(points, crs)
    _, distances = tree.query_nearest(metric, return_distance=True, all_matches=False)
    return float(np.median(distances))


def _outside_share(points: np.ndarray, region: Region) -> float:
    grown = allowed_area(region, 1.0)  # 1 m, so vertices on the outline (clipped data) count as inside
    return float(np.mean(~shapely.contains_xy(grown, shapely.get_x(points), shapely.get_y(points))))


def _streets(conn: Connection, geoms: np.ndarray, crs: str) -> np.ndarray:
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    rows = conn.execute(
        text(
            "SELECT ST_AsBinary(geom) FROM street_segments "
            "WHERE geom && ST_MakeEnvelope(:a, :b, :c, :d, 4326) LIMIT 200000"
        ),
        dict(
            a=xmin - STREET_WINDOW_DEG,
            b=ymin - STREET_WINDOW_DEG,
            c=xmax + STREET_WINDOW_DEG,
            d=ymax + STREET_WINDOW_DEG,
        ),
    ).scalars()
    lines = shapely.from_wkb(list(rows))
    return to_metric(lines, crs) if len(lines) else lines


def offset_warning(
    conn: Connection, geoms: np.ndarray, used_crs: str, region: Region, *, streets_kind: bool = False
) -> str | None:
    """A warning when the data (WGS-84, converted from ``used_crs``) fits better with the GCJ-02 offset (un)done.

    Parameters
    ----------
    conn
        Reads loaded street segments as a reference.
    geoms
        The loaded geometries in WGS-84.
    used_crs
        The CRS the data was read in (``gcj02`` tests the opposite mistake).
    streets_kind
        True when the data are the streets themselves (not compared with the streets table).
    """
    geoms = np.asarray([g for g in geoms if g is not None and not g.is_empty], dtype=object)
    if used_crs == "bd09" or len(geoms) == 0:
        return None
    declared_gcj = used_crs == "gcj02"
    outline = region.outline
    way = "kept" if declared_gcj else "undone"
    if declared_gcj:
        advice = "they were declared GCJ-02 but look like WGS-84 already; drop the gcj02 declaration"
    else:
        advice = (
            'they look GCJ-02 (Amap/Tencent coordinates); load them with --crs gcj02 or crs = "gcj02" in source.toml'
        )

    if all(g.geom_type in {"Polygon", "MultiPolygon"} for g in geoms):
        union = shapely.union_all(geoms)
        if union.area > 0.3 * outline.area:
            other = _shift(geoms, to_gcj=declared_gcj)
            as_is, shifted = _iou(union, outline), _iou(shapely.union_all(other), outline)
            if shifted - as_is > MIN_IOU_GAIN:
                return (
                    f"coordinates look offset by the GCJ-02 amount: the data overlaps the county outline with "
                    f"IoU {as_is:.3f} as loaded but {shifted:.3f} with the offset {way}; "
                    f"{advice}"
                )
            return None

    points = _vertices(geoms)
    other_points = _shift(points, to_gcj=declared_gcj)
    if not streets_kind:
        streets = _streets(conn, geoms, region.metric_crs)
        if len(streets) >= MIN_STREETS:
            as_is = _street_distance(points, streets, region.metric_crs)
            shifted = _street_distance(other_points, streets, region.metric_crs)
            if as_is - shifted > MIN_DISTANCE_GAIN_M and shifted < 0.5 * as_is:
                return (
                    f"coordinates look offset by the GCJ-02 amount: median distance to the nearest street is "
                    f"{as_is:.0f} m as loaded but {shifted:.0f} m with the offset "
                    f"{way}; {advice}"
                )
            return None
    as_is, shifted = _outside_share(points, region), _outside_share(other_points, region)
    if as_is - shifted > MIN_OUTSIDE_GAIN and shifted < 0.5 * as_is:
        return (
            f"coordinates look offset by the GCJ-02 amount: {as_is:.1%} of the vertices fall outside the county "
            f"outline as loaded but {shifted:.1%} with the offset {way}; {advice}"
        )
    return None
