"""Spatial helpers shared by the ETL and the layers: metric lengths and areas, in the region's CRS."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import transform_geometry


def to_metric(geom, metric_crs: str):
    """A geometry (or array of geometries) in WGS-84 converted to the metric CRS."""
    return transform_geometry(geom, metric_crs, inverse=True)


def length_m(geom, metric_crs: str) -> float | np.ndarray:
    """Length in metres of WGS-84 geometries."""
    return shapely.length(to_metric(geom, metric_crs))


def area_km2(geom: BaseGeometry, metric_crs: str) -> float:
    """Area in km² of a WGS-84 geometry."""
    return float(shapely.area(to_metric(geom, metric_crs))) / 1e6
