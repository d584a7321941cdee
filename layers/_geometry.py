"""Geometry helpers for drawing: WKB from PostGIS to plotly coordinates and GeoJSON, rounded for small payloads.

Street segments are drawn from geometry the browser fetches once: :func:`segment_lines` gives a
``Choroplethmap`` whose ``geojson`` is the URL of :data:`SEGMENT_GEOMETRY_ROUTE` (served by the
dashboard with an ETag, named by the data version) and which carries only segment ids. plotly
fetches a GeoJSON URL once per page and reuses it for every later update, so a map update sends
ids, never the segments' coordinates again. plotly's map traces only draw Polygon features from
a GeoJSON, so each line is served as a zero-area "ribbon" polygon (out along the line and back):
its fill is empty and its outline, drawn by the trace's ``marker.line``, is the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

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
    array = np.asarray([g for g in geoms if g is not None and not g.is_empty], dtype=object)
    if array.size == 0:
        return np.array([]), np.array([])
    polygons = shapely.get_type_id(array) >= 3  # polygons and multipolygons: draw their exterior rings
    if polygons.any():
        array[polygons] = shapely.boundary(array[polygons])
    parts = shapely.get_parts(array)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    starts = np.flatnonzero(np.diff(index)) + 1
    coords = np.insert(np.round(coords, DECIMALS), starts, np.nan, axis=0)
    coords = np.vstack([coords, [np.nan, np.nan]])
    return coords[:, 0], coords[:, 1]


def line_trace(
    geoms: Sequence[BaseGeometry | None], *, color: str, width: float, name: str, hover: bool = True
) -> go.Scattermap:
    """One map trace drawing ``geoms`` as lines in one colour and width (``hover=False``: no hover label)."""
    lons, lats = lines_to_lonlat(list(geoms))
    skip = {} if hover else {"hoverinfo": "skip"}
    return go.Scattermap(lon=lons, lat=lats, mode="lines", line={"color": color, "width": width}, name=name, **skip)


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


SEGMENT_GEOMETRY_ROUTE = "/map/segments.geojson"
_NO_FILL = [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]]


def segment_geometry_url(version: int, squads: Sequence[str] | None, chief: str | None) -> str:
    """The URL of the GeoJSON of the street segments of ``squads`` (None: every squad) and ``chief``.

    ``version`` names the street data (a new load gives a new URL, so the browser never draws stale
    geometry); the same filter always gives the same URL, so the browser fetches it once.
    """
    query: dict[str, str] = {"v": str(int(version))}
    if squads is not None:
        query["squads"] = ",".join(sorted(squads))
    if chief:
        query["chief"] = str(chief)
    return f"{SEGMENT_GEOMETRY_ROUTE}?{urlencode(query)}"


def ribbon(geom: BaseGeometry) -> dict[str, Any] | None:
    """A (multi)line as a GeoJSON (Multi)Polygon of zero area whose outline is the line; None when empty."""
    parts = [p for p in shapely.get_parts(geom) if not p.is_empty and shapely.get_type_id(p) in (1, 2)]
    rings = []
    for part in parts:
        coords = np.round(shapely.get_coordinates(part), DECIMALS).tolist()
        if len(coords) >= 2:
            rings.append([coords + coords[-2::-1]])  # one polygon: its exterior ring
    if not rings:
        return None
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings[0]}
    return {"type": "MultiPolygon", "coordinates": rings}


def ribbon_collection(ids: Sequence[Any], geoms: Sequence[BaseGeometry | None]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of line geometries as :func:`ribbon` polygons, ``id`` per feature."""
    features = []
    for key, geom in zip(ids, geoms, strict=True):
        shape = ribbon(geom) if geom is not None and not geom.is_empty else None
        if shape is not None:
            features.append({"type": "Feature", "id": str(key), "geometry": shape})
    return {"type": "FeatureCollection", "features": features}


def segment_lines(ids: Sequence[Any], *, url: str, color: str, width: float, name: str) -> go.Choroplethmap:
    """One map trace drawing the segments ``ids`` as lines of one colour and width, geometry from ``url``.

    The trace carries the ids only; the browser takes the coordinates from the GeoJSON at ``url``
    (:func:`segment_geometry_url`), fetched once. Not hoverable (a zero-area polygon has no inside).
    """
    locations = np.asarray(ids, dtype=np.int64).astype(np.int32)  # compact; matched to the features' ids
    return go.Choroplethmap(
        geojson=url,
        locations=locations,
        z=np.zeros(len(locations), dtype=np.int8),
        colorscale=_NO_FILL,
        showscale=False,
        marker={"line": {"color": color, "width": width}},
        hoverinfo="skip",
        name=name,
    )
