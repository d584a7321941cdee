"""Geometry helpers for drawing: WKB from PostGIS to plotly coordinates and GeoJSON, rounded for small payloads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
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


def lines_to_lonlat(geoms: Sequence[BaseGeometry | None]) -> tuple[list[float | None], list[float | None]]:
    """Coordinates of (multi)lines for one Scattermap line trace, parts separated by None."""
    lons: list[float | None] = []
    lats: list[float | None] = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        parts = geom.geoms if hasattr(geom, "geoms") else [geom]
        for part in parts:
            ring = part.exterior if part.geom_type == "Polygon" else part
            coords = np.round(np.asarray(ring.coords)[:, :2], DECIMALS)
            lons.extend(coords[:, 0].tolist())
            lats.extend(coords[:, 1].tolist())
            lons.append(None)
            lats.append(None)
    return lons, lats


def boundaries(geoms: Sequence[BaseGeometry | None]) -> list[BaseGeometry]:
    """Boundary lines of polygons (for outline traces)."""
    return [shapely.boundary(g) for g in geoms if g is not None and not g.is_empty]


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
