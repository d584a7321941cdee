"""Geometry helpers for drawing: WKB from PostGIS to plotly coordinates and GeoJSON, rounded for small payloads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import shapely
from shapely.geometry.base import BaseGeometry

DECIMALS = 5  # about 1 m; enough for drawing


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
    lons, lats, _ = _line_coords(geoms)
    return lons, lats


def _line_coords(geoms: Sequence[BaseGeometry | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`lines_to_lonlat` plus, per coordinate, the position of its geometry in ``geoms`` (-1: a break)."""
    given = list(geoms)
    keep = [i for i, g in enumerate(given) if g is not None and not g.is_empty]
    array = np.asarray([given[i] for i in keep], dtype=object)
    if array.size == 0:
        return np.array([]), np.array([]), np.array([], dtype=int)
    polygons = np.isin(shapely.get_type_id(array), (3, 6))  # (multi)polygons: draw their rings
    if polygons.any():
        array[polygons] = shapely.boundary(array[polygons])
    parts, part_owner = shapely.get_parts(array, return_index=True)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    owner = np.asarray(keep)[part_owner[index]]
    starts = np.flatnonzero(np.diff(index)) + 1
    coords = np.insert(np.round(coords, DECIMALS), starts, np.nan, axis=0)
    owner = np.insert(owner, starts, -1)
    coords = np.vstack([coords, [np.nan, np.nan]])
    owner = np.append(owner, -1)
    return coords[:, 0], coords[:, 1], owner


def line_trace(
    geoms: Sequence[BaseGeometry | None],
    *,
    color: str,
    width: float,
    name: str,
    hover: bool = True,
    ids: Sequence[Any] | None = None,
) -> go.Scattermap:
    """One map trace drawing ``geoms`` as lines in one colour and width (``hover=False``: no hover label).

    ``ids`` (one per geometry, e.g. segment ids) become the ``customdata`` of every vertex, so a click
    on a line reports which feature it hit.
    """
    lons, lats, owner = _line_coords(geoms)
    extra: dict[str, Any] = {} if hover else {"hoverinfo": "skip"}
    if ids is not None and len(owner):
        values = np.asarray(list(ids), dtype=object)
        extra["customdata"] = np.where(owner >= 0, values[np.maximum(owner, 0)], None)
    return go.Scattermap(lon=lons, lat=lats, mode="lines", line={"color": color, "width": width}, name=name, **extra)


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
