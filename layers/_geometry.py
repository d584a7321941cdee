"""Geometry helpers for drawing: WKB from PostGIS to plotly coordinates and GeoJSON, rounded for small payloads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import shapely
from shapely.geometry.base import BaseGeometry

DECIMALS = 5  # about 1 m; enough for drawing
SEGMENT_SIMPLIFY_DEG = 1e-5  # the street segments as drawn: simplified by about 1 m
SEGMENTS = "segments"  # the geometry set of the street segments, sent to the browser once per data version


def simplified_wkb(column: str, tolerance_deg: float) -> str:
    """SQL expression giving a simplified geometry as WKB (``tolerance_deg`` in degrees; 1e-5 ≈ 1 m)."""
    if tolerance_deg <= 0:
        return f"ST_AsBinary({column})"
    return f"ST_AsBinary(ST_SimplifyPreserveTopology({column}, {float(tolerance_deg)!r}))"


def from_wkb(values: Iterable[Any]) -> np.ndarray:
    """Shapely geometries from WKB values (memoryview/bytes/None)."""
    data = [bytes(v) if v is not None else None for v in values]
    return shapely.from_wkb(data)


def lines_to_lonlat(geoms: Sequence[BaseGeometry | None]) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of (multi)lines or polygon rings for one Scattermap line trace.

    Parts are separated by NaN (serialised as null, which breaks the line); numpy arrays keep
    plotly's validation fast for thousands of segments.
    """
    given = list(geoms)
    array = np.asarray([g for g in given if g is not None and not g.is_empty], dtype=object)
    if array.size == 0:
        return np.array([]), np.array([])
    polygons = np.isin(shapely.get_type_id(array), (3, 6))  # (multi)polygons: draw their rings
    if polygons.any():
        array[polygons] = shapely.boundary(array[polygons])
    coords, index = shapely.get_coordinates(shapely.get_parts(array), return_index=True)
    starts = np.flatnonzero(np.diff(index)) + 1
    coords = np.insert(np.round(coords, DECIMALS), starts, np.nan, axis=0)
    coords = np.vstack([coords, [np.nan, np.nan]])
    return coords[:, 0], coords[:, 1]


def line_trace(
    geoms: Sequence[BaseGeometry | None], *, color: str, width: float, name: str, hover: bool = True
) -> go.Scattermap:
    """One map trace drawing ``geoms`` as lines in one colour and width (``hover=False``: no hover label).

    Whole street segments are drawn by :func:`segment_trace` instead, which names them rather than
    carrying their coordinates.
    """
    lons, lats = lines_to_lonlat(geoms)
    extra: dict[str, Any] = {} if hover else {"hoverinfo": "skip"}
    return go.Scattermap(lon=lons, lat=lats, mode="lines", line={"color": color, "width": width}, name=name, **extra)


def segment_trace(
    segment_ids: Sequence[Any], *, color: str, width: float, name: str, hover: bool = True
) -> go.Scattermap:
    """A line trace of whole street segments that names them instead of carrying their coordinates.

    The trace has empty ``lon``/``lat`` and ``meta.geometry = {"set": SEGMENTS, "ids": [...]}``; the
    browser draws it from the segments' geometry it loaded once per data version (the dashboard's
    ``/basemap/segments.json``, expanded by ``dashboard/assets/geomref.js``), simplified by
    :data:`SEGMENT_SIMPLIFY_DEG`, with each segment's id as the ``customdata`` of its vertices (a click
    reports the segment), like :func:`line_trace` with ``ids``.
    """
    extra: dict[str, Any] = {} if hover else {"hoverinfo": "skip"}
    refs = [int(v) for v in segment_ids]
    return go.Scattermap(
        lon=[],
        lat=[],
        mode="lines",
        line={"color": color, "width": width},
        name=name,
        meta={"geometry": {"set": SEGMENTS, "ids": refs}},
        **extra,
    )


def geometry_reference(trace: Any) -> dict[str, Any] | None:
    """The geometry a trace of :func:`segment_trace` names (``{"set", "ids", …}``), None for any other trace."""
    meta = getattr(trace, "meta", None)
    return meta.get("geometry") if isinstance(meta, dict) else None


def feature_collection(ids: Sequence[Any], geoms: Sequence[BaseGeometry | None]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with ``id`` per feature and coordinates rounded to ``DECIMALS``."""
    features = []
    for key, geom in zip(ids, geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        rounded = shapely.set_precision(geom, 10**-DECIMALS)
        features.append({"type": "Feature", "id": str(key), "geometry": shapely.geometry.mapping(rounded)})
    return {"type": "FeatureCollection", "features": features}


def round_coords(values: Any) -> np.ndarray:
    """Coordinates rounded to ``DECIMALS`` decimals."""
    return np.round(np.asarray(values, dtype=float), DECIMALS)
