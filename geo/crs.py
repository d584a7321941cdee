"""Coordinate systems: storage (EPSG:4326), metric work (the region's CRS), GCJ-02 and BD-09.

GCJ-02 ("Mars" coordinates, Amap/Tencent) and BD-09 (Baidu) are obfuscated WGS-84 offsets
that no EPSG code describes; they are converted here with the published forward formulas and
an iterative inverse (error below 1 cm). All functions are vectorised over numpy arrays.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

from geo.errors import ConfigError

STORAGE_SRID = 4326
OFFSET_CRS = ("gcj02", "bd09")

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def normalize_crs(crs: str | int | None) -> str:
    """Return a canonical name for a CRS given by a user or file: ``'gcj02'``, ``'bd09'`` or ``'EPSG:n'``.

    ``None`` means EPSG:4326. CGCS2000 (EPSG:4490) is kept as itself so the source is recorded,
    and treated as WGS-84 when converted (the difference is a few centimetres here).
    """
    if crs is None:
        return f"EPSG:{STORAGE_SRID}"
    text = str(crs).strip().lower().replace("-", "").replace("_", "")
    if text in {"gcj02", "gcj", "mars", "amap", "gaode"}:
        return "gcj02"
    if text in {"bd09", "bd09ll", "baidu"}:
        return "bd09"
    if text in {"wgs84", "4326", "epsg4326", "epsg:4326"}:
        return "EPSG:4326"
    if text in {"cgcs2000", "4490", "epsg:4490"}:
        return "EPSG:4490"
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError with a long text
        raise ConfigError(f"unknown coordinate system {crs!r}: use EPSG:n, gcj02 or bd09") from exc
    epsg = parsed.to_epsg()
    if epsg is None:
        raise ConfigError(f"coordinate system {crs!r} has no EPSG code; reproject the file or give --crs")
    return f"EPSG:{epsg}"


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Forward GCJ-02 offset (points outside China are returned unchanged)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def gcj02_to_wgs84(lon, lat, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Inverse GCJ-02 by fixed-point iteration (converges to < 1e-9 degrees)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(iterations):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon = wlon - (glon - lon)
        wlat = wlat - (glat - lat)
    return wlon, wlat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to Baidu BD-09."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat, iterations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Baidu BD-09 to GCJ-02: the published closed form (~10 cm off), refined by iteration."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(iterations):
        blon, blat = gcj02_to_bd09(glon, glat)
        glon = glon - (blon - lon)
        glat = glat - (blat - lat)
    return glon, glat


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 to BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 to WGS-84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


@lru_cache(maxsize=32)
def transformer(source: str, target: str) -> Transformer:
    """A cached always-xy pyproj transformer between two EPSG CRS."""
    return Transformer.from_crs(source, target, always_xy=True)


def to_wgs84(x, y, crs: str | int | None) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates in any supported CRS to WGS-84 lon/lat (EPSG:4490 is taken as equal)."""
    name = normalize_crs(crs)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if name == "gcj02":
        return gcj02_to_wgs84(x, y)
    if name == "bd09":
        return bd09_to_wgs84(x, y)
    if name in {"EPSG:4326", "EPSG:4490"}:
        return x, y
    return transformer(name, "EPSG:4326").transform(x, y)


def from_wgs84(lon, lat, crs: str | int | None) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS-84 lon/lat to any supported CRS (the inverse of :func:`to_wgs84`)."""
    name = normalize_crs(crs)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if name == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if name == "bd09":
        return wgs84_to_bd09(lon, lat)
    if name in {"EPSG:4326", "EPSG:4490"}:
        return lon, lat
    return transformer("EPSG:4326", name).transform(lon, lat)


def transform_geometry(geom, crs: str | int | None, inverse: bool = False):
    """Convert a shapely geometry (or array of them) to WGS-84, or from WGS-84 with ``inverse``."""
    import shapely

    func = from_wgs84 if inverse else to_wgs84

    def _xy(coords: np.ndarray) -> np.ndarray:
        if len(coords) == 0:
            return coords
        x, y = func(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([x, y])

    return shapely.transform(geom, _xy)
