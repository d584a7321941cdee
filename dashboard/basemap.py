"""The basemap under every map: offline (county, townships, streets from PostGIS), 天地图, an XYZ
tile URL, or a local tile folder served by the app; plus the GCJ-02 shift for Amap-style tiles.

Configured by ``EGIS_BASEMAP`` / ``EGIS_BASEMAP_CRS`` / ``EGIS_TIANDITU_KEY`` (``geo/settings.py``).
The offline basemap is sent once with the page; refreshes patch only the data traces.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask, abort, send_from_directory
from plotly.basedatatypes import BaseTraceType

from dashboard import data
from geo.crs import wgs84_to_gcj02
from geo.errors import ConfigError
from geo.settings import get_settings
from layers.base import LayerParams
from layers.queries.basemap_geometry import basemap_collections

TILE_ROUTE = "/basemap-tiles"
TIANDITU = "https://t{n}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
_CACHE_SECONDS = 600.0
_cache: dict[tuple, tuple[float, dict[str, Any]]] = {}


@dataclass(frozen=True)
class Palette:
    """Colours of the offline basemap."""

    background: str
    county_fill: str
    county_line: str
    township_line: str
    main_road: str
    street: str
    text: str


LIGHT = Palette("#eef1f4", "#fbfaf7", "#34495e", "#b8b0a0", "#d9a45b", "#c9c9c9", "#222222")
DARK = Palette("#070d18", "#0e1a2b", "#5fa8d3", "#2b4361", "#3d5a80", "#22344d", "#e8eef5")


@dataclass(frozen=True)
class BasemapConfig:
    """The parsed basemap setting: kind (offline / tianditu / xyz / local), tile URLs, display CRS."""

    kind: str
    tiles: tuple[str, ...] = ()
    folder: Path | None = None
    crs: str = "wgs84"


def config() -> BasemapConfig:
    """Parse the settings into a :class:`BasemapConfig`.

    Raises
    ------
    ConfigError
        For 天地图 without a key, or a local folder that does not exist.
    """
    settings = get_settings()
    value = settings.basemap.strip()
    if value in {"", "offline"}:
        return BasemapConfig("offline", crs="wgs84")
    if value == "tianditu":
        if not settings.tianditu_key:
            raise ConfigError("EGIS_BASEMAP=tianditu needs EGIS_TIANDITU_KEY (申请: console.tianditu.gov.cn)")
        key = settings.tianditu_key
        tiles = tuple(TIANDITU.format(n=n, layer=layer, key=key) for layer in ("vec", "cva") for n in range(2))
        return BasemapConfig("tianditu", tiles=tiles, crs="wgs84")  # CGCS2000 ≈ WGS-84
    if value.startswith("local:"):
        folder = Path(value.removeprefix("local:")).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"EGIS_BASEMAP local tile folder {folder} does not exist")
        ext = _tile_extension(folder)
        return BasemapConfig(
            "local", tiles=(f"{TILE_ROUTE}/{{z}}/{{x}}/{{y}}.{ext}",), folder=folder, crs=settings.basemap_crs
        )
    if value.startswith(("http://", "https://")) and "{z}" in value:
        return BasemapConfig("xyz", tiles=(value,), crs=settings.basemap_crs)
    raise ConfigError(
        f"EGIS_BASEMAP={value!r}: use offline, tianditu, an XYZ URL with {{z}}/{{x}}/{{y}}, or local:<folder>"
    )


def _tile_extension(folder: Path) -> str:
    for path in folder.rglob("*"):
        if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp", ".pbf"}:
            return path.suffix.lstrip(".").lower()
    return "png"


def register_tile_route(server: Flask) -> None:
    """Serve ``local:<folder>`` tiles at ``/basemap-tiles/<z>/<x>/<y>.<ext>`` (no-op for other kinds)."""
    try:
        folder = config().folder
    except ConfigError:
        folder = None

    @server.route(f"{TILE_ROUTE}/<int:z>/<int:x>/<int:y>.<ext>")
    def basemap_tile(z: int, x: int, y: int, ext: str):
        if folder is None or ext not in {"png", "jpg", "jpeg", "webp", "pbf"}:
            abort(404)
        return send_from_directory(folder, f"{z}/{x}/{y}.{ext}", max_age=86400)


def _geojson_collections(detail: str, squads: tuple[str, ...]) -> dict[str, Any]:
    key = (detail, squads)
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < _CACHE_SECONDS:
        return hit[1]
    collections = data.read(basemap_collections, LayerParams(squads=squads, options={"detail": detail}))
    _cache[key] = (time.monotonic(), collections)
    return collections


def map_style(*, dark: bool = False, detail: str = "county", squads: tuple[str, ...] = ()) -> dict[str, Any]:
    """A MapLibre style object for ``layout.map.style``: background, tiles or offline GeoJSON layers.

    The offline basemap draws county fill and outline, township lines and streets from PostGIS;
    if the database is unreachable the style is the plain background (the page says why).
    """
    palette = DARK if dark else LIGHT
    cfg = config()
    style: dict[str, Any] = {
        "version": 8,
        "sources": {},
        "layers": [{"id": "bg", "type": "background", "paint": {"background-color": palette.background}}],
    }
    if cfg.kind != "offline":
        style["sources"]["tiles"] = {"type": "raster", "tiles": list(cfg.tiles[:2]), "tileSize": 256}
        paint = {"raster-saturation": -0.8, "raster-brightness-max": 0.35} if dark else {}
        style["layers"].append({"id": "tiles", "type": "raster", "source": "tiles", "paint": paint})
        if len(cfg.tiles) > 2:  # 天地图 annotation layer
            style["sources"]["labels"] = {"type": "raster", "tiles": list(cfg.tiles[2:]), "tileSize": 256}
            style["layers"].append({"id": "labels", "type": "raster", "source": "labels", "paint": paint})
        return style
    try:
        collections = _geojson_collections(detail, squads)
    except data.DataUnavailable:
        return style
    empty = {"type": "FeatureCollection", "features": []}
    for kind in ("county", "township", "street"):
        style["sources"][kind] = {"type": "geojson", "data": collections.get(kind, empty)}
    style["layers"] += [
        {"id": "county-fill", "type": "fill", "source": "county", "paint": {"fill-color": palette.county_fill}},
        {
            "id": "township-line",
            "type": "line",
            "source": "township",
            "paint": {"line-color": palette.township_line, "line-width": 1, "line-dasharray": [3, 2]},
        },
        {
            "id": "street-line",
            "type": "line",
            "source": "street",
            "filter": ["!", ["in", ["get", "road_class"], ["literal", ["主干路", "次干路"]]]],
            "paint": {"line-color": palette.street, "line-width": 1},
        },
        {
            "id": "main-road-line",
            "type": "line",
            "source": "street",
            "filter": ["in", ["get", "road_class"], ["literal", ["主干路", "次干路"]]],
            "paint": {"line-color": palette.main_road, "line-width": 2},
        },
        {
            "id": "county-line",
            "type": "line",
            "source": "county",
            "paint": {"line-color": palette.county_line, "line-width": 2.5},
        },
    ]
    return style


def _shift_geometry(geometry: dict[str, Any]) -> dict[str, Any]:
    def shift(coords: Any) -> Any:
        array = np.asarray(coords, dtype=float)
        if array.ndim == 1:
            lon, lat = wgs84_to_gcj02(array[0], array[1])
            return [round(float(lon), 6), round(float(lat), 6)]
        if array.ndim == 2:
            lon, lat = wgs84_to_gcj02(array[:, 0], array[:, 1])
            return np.round(np.column_stack([lon, lat]), 6).tolist()
        return [shift(part) for part in coords]

    return {**geometry, "coordinates": shift(geometry["coordinates"])}


def for_display(traces: list[BaseTraceType]) -> list[BaseTraceType]:
    """Shift the coordinates of map traces to GCJ-02 when the basemap is GCJ-02; else unchanged."""
    if config().crs != "gcj02":
        return traces
    for trace in traces:
        if getattr(trace, "lon", None) is not None and getattr(trace, "lat", None) is not None:
            lon = np.asarray(trace.lon, dtype=float)
            lat = np.asarray(trace.lat, dtype=float)
            valid = ~(np.isnan(lon) | np.isnan(lat))
            shifted_lon, shifted_lat = lon.copy(), lat.copy()
            shifted_lon[valid], shifted_lat[valid] = wgs84_to_gcj02(lon[valid], lat[valid])
            trace.lon, trace.lat = shifted_lon, shifted_lat
        geojson = getattr(trace, "geojson", None)
        if isinstance(geojson, dict) and "features" in geojson:
            trace.geojson = {
                **geojson,
                "features": [{**f, "geometry": _shift_geometry(f["geometry"])} for f in geojson["features"]],
            }
    return traces


def to_display(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 coordinates as drawn on the configured basemap (GCJ-02 shifted when it is GCJ-02)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return wgs84_to_gcj02(lon, lat) if config().crs == "gcj02" else (lon, lat)
