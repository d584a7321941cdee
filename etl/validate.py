"""Geometry checks of loaded features: repair, shape type, emptiness, and inside the region (with a margin).

Each check returns, per feature, either the cleaned WGS-84 geometry or the reason it cannot be
loaded; the job turns reasons into rejects.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from geo.crs import transform_geometry
from geo.region import Region
from geo.spatial import to_metric

TARGETS = ("point", "line", "multiline", "polygon", "any")
_DIMENSION = {"point": 0, "line": 1, "multiline": 1, "polygon": 2}


def _parts(geom: BaseGeometry, dimension: int) -> list[BaseGeometry]:
    parts = shapely.get_parts(geom) if hasattr(geom, "geoms") else [geom]
    out: list[BaseGeometry] = []
    for part in parts:
        if hasattr(part, "geoms"):
            out += _parts(part, dimension)
        elif not part.is_empty and shapely.get_dimensions(part) == dimension:
            out.append(part)
    return out


def coerce(geom: BaseGeometry | None, target: str) -> tuple[BaseGeometry | None, str | None]:
    """The geometry as ``target`` (point, line, multiline, polygon → MultiPolygon), or why it cannot be.

    ``any`` keeps the parts of the highest dimension: areas as a MultiPolygon, else lines as a
    MultiLineString, else a point. Invalid geometry is repaired with ``make_valid`` first; Z is dropped.
    """
    if geom is None:
        return None, "no geometry"
    if geom.is_empty:
        return None, "empty geometry"
    geom = shapely.force_2d(geom)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        if geom.is_empty:
            return None, "geometry is invalid and empty after repair"
    if target == "any":
        for dimension, shape in ((2, "polygon"), (1, "multiline"), (0, "point")):
            if _parts(geom, dimension):
                return coerce(geom, shape)
    parts = _parts(geom, _DIMENSION[target])
    if not parts:
        kind = geom.geom_type
        return None, f"{kind} where a {target} is expected"
    if target == "point":
        if len(parts) > 1:
            return None, f"{len(parts)} points where one is expected"
        return parts[0], None
    if target in {"line", "multiline"}:
        lines = [p if isinstance(p, LineString) else LineString(p.coords) for p in parts]
        lines = [line for line in lines if line.length > 0]
        if not lines:
            return None, "line of zero length"
        merged = shapely.line_merge(MultiLineString(lines)) if len(lines) > 1 else lines[0]
        if target == "multiline":
            return (merged if isinstance(merged, MultiLineString) else MultiLineString([merged])), None
        if isinstance(merged, MultiLineString):
            return None, f"multi-part line ({len(merged.geoms)} disconnected parts) where one segment is expected"
        return merged, None
    polygons = [p for p in parts if p.area > 0]
    if not polygons:
        return None, "polygon of zero area"
    return MultiPolygon(polygons), None


_ALLOWED: dict[tuple[str, float], BaseGeometry] = {}


def allowed_area(region: Region, margin_m: float) -> BaseGeometry:
    """The region outline grown by the margin, in WGS-84, prepared for fast tests (cached per region)."""
    key = (str(region.path), margin_m)
    if key not in _ALLOWED:
        grown = to_metric(region.outline, region.metric_crs).simplify(margin_m / 100).buffer(margin_m, 4)
        area = transform_geometry(grown, region.metric_crs)
        shapely.prepare(area)
        _ALLOWED[key] = area
    return _ALLOWED[key]


def outside_region(geoms: np.ndarray, region: Region) -> np.ndarray:
    """Per geometry: distance (m) outside the outline plus ``region.outside_margin_m``, or NaN when inside.

    A feature is inside when any part of it reaches the grown outline.
    """
    area = allowed_area(region, region.outside_margin_m)
    geoms = np.asarray(geoms, dtype=object)
    inside = shapely.intersects(area, geoms)
    result = np.full(len(geoms), np.nan)
    out = np.flatnonzero(~inside & ~shapely.is_missing(geoms))
    if len(out):
        outline = to_metric(region.outline, region.metric_crs)
        result[out] = shapely.distance(outline, to_metric(geoms[out], region.metric_crs))
    return result


def as_point(geom: BaseGeometry) -> Point:
    """A point on the geometry (for point-in-polygon lookups of lines and polygons)."""
    return geom if isinstance(geom, Point) else shapely.point_on_surface(geom)
