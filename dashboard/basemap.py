"""The basemap under every map: offline vector tiles made by PostGIS (county, townships, villages,
streets, stations and their names), 天地图, an XYZ tile URL, or a local tile folder served by the
app; names drawn on top in every case; plus the GCJ-02 shift for Amap-style tiles.

Configured by ``EGIS_BASEMAP`` / ``EGIS_BASEMAP_CRS`` / ``EGIS_TIANDITU_KEY`` (``geo/settings.py``).
The style is sent once with the page (tiles load as the map moves); refreshes patch only the data
traces. The routes that serve tiles and the font are in ``dashboard/tiles.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
import numpy as np
from plotly.basedatatypes import BaseTraceType

from dashboard import data
from dashboard.mapfont import source_font
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geo.errors import ConfigError
from geo.settings import get_settings
from layers.queries.basemap_tiles import BUILDING_ZOOM, MAIN_ROAD_CLASSES, VILLAGE_ZOOM, basemap_version

TILE_ROUTE = "/basemap-tiles"  # local raster tiles (EGIS_BASEMAP=local:<folder>)
VECTOR_TILE_ROUTE = "/basemap/tiles"
FONT_ROUTE = "/basemap/font"
TILE_MAX_ZOOM = 16  # tiles of higher zooms are drawn from these (overzoom)
LABELS_BELOW = "labels-start"  # data traces are drawn below this layer, names above them
MAP_FONT = "Egis Sans"  # the font face name in the style; the app serves its file (dashboard/mapfont.py)
TIANDITU = "https://t{n}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"


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
    halo: str
    water: str
    green: str
    building: str


# Roads in cool greys: no road may look like a patrol class (green … orange … red), see test_basemap_palette.
LIGHT = Palette(
    "#eef1f4",
    "#fbfaf7",
    "#34495e",
    "#b8b0a0",
    "#9aa6b5",
    "#c9cdd2",
    "#222222",
    "#ffffff",
    "#a9d3f0",
    "#d8ead2",
    "#e3ddd3",
)
DARK = Palette(
    "#070d18",
    "#0e1a2b",
    "#5fa8d3",
    "#2b4361",
    "#3d5a80",
    "#22344d",
    "#e8eef5",
    "#070d18",
    "#12304d",
    "#10251c",
    "#1a2536",
)


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


def display_shift(lon: float, lat: float) -> tuple[float, float]:
    """Degrees (lon, lat) to add to WGS-84 data near ``(lon, lat)`` to draw it on the basemap.

    The GCJ-02 offset at that point when the raster tiles underneath are GCJ-02, else ``(0, 0)``.
    The vector tiles take the offset at each tile's centre: across one tile it changes by less
    than a pixel of that tile's zoom (about 2 m inside a tile of zoom 14).
    """
    if config().crs != "gcj02":
        return (0.0, 0.0)
    shifted_lon, shifted_lat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    return (float(shifted_lon[0]) - lon, float(shifted_lat[0]) - lat)


def style_layers(palette: Palette, source: str = "basemap") -> list[dict[str, Any]]:
    """The offline basemap drawn from the vector tiles: county fill, green space, water, buildings (when a
    ``basemap`` load brought them), outlines, streets by class."""
    main = ["in", ["get", "road_class"], ["literal", list(MAIN_ROAD_CLASSES)]]

    def layer(layer_id: str, kind: str, source_layer: str, **spec: Any) -> dict[str, Any]:
        return {"id": layer_id, "type": kind, "source": source, "source-layer": source_layer, **spec}

    # MapLibre names multi-part features "Polygon" or "MultiPolygon" depending on its version: accept both.
    polygons = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]]
    lines = ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]]

    def reference(kind: str, shape: list[Any], paint: dict[str, Any], **spec: Any) -> dict[str, Any]:
        """A layer of the ``basemap`` load's features of one kind (water, green, building) and shape."""
        draw = "fill" if shape is polygons else "line"
        where = ["all", ["==", ["get", "layer"], kind], shape]
        return layer(f"{kind}-{draw}", draw, "reference", filter=where, paint=paint, **spec)

    water_width = ["interpolate", ["linear"], ["zoom"], 10, 1, 16, 4]
    return [
        layer("county-fill", "fill", "county", paint={"fill-color": palette.county_fill}),
        reference("green", polygons, {"fill-color": palette.green}),
        reference("water", polygons, {"fill-color": palette.water}),
        reference("water", lines, {"line-color": palette.water, "line-width": water_width}),
        reference(
            "building",
            polygons,
            {"fill-color": palette.building, "fill-outline-color": palette.township_line},
            minzoom=BUILDING_ZOOM,
        ),
        layer(
            "village-line",
            "line",
            "villages",
            minzoom=VILLAGE_ZOOM,
            paint={"line-color": palette.township_line, "line-width": 0.5, "line-opacity": 0.6},
        ),
        layer(
            "township-line",
            "line",
            "townships",
            paint={"line-color": palette.township_line, "line-width": 1, "line-dasharray": [3, 2]},
        ),
        layer(
            "street-line",
            "line",
            "streets",
            filter=["!", main],
            paint={"line-color": palette.street, "line-width": ["interpolate", ["linear"], ["zoom"], 12, 0.6, 16, 3]},
        ),
        layer(
            "main-road-line",
            "line",
            "streets",
            filter=main,
            paint={"line-color": palette.main_road, "line-width": ["interpolate", ["linear"], ["zoom"], 9, 1, 16, 5]},
        ),
        layer("county-line", "line", "county", paint={"line-color": palette.county_line, "line-width": 2.5}),
    ]


def label_layers(
    palette: Palette, *, wall: bool, source: str = "basemap", text_scale: float = 1.0
) -> list[dict[str, Any]]:
    """Names drawn by MapLibre from the vector tiles, on top of the data traces, placed without overlaps.

    Squads and townships at county zoom (squads large on the wall, readable from 5 m), villages
    from zoom 12, street names along the lines from zoom 12 (main roads) and 13 (every street),
    stations from zoom 11. Layers later in the list are placed first when labels collide.
    ``text_scale`` multiplies every text size (the wall on a 2160-line screen: 2).
    """
    halo = {"text-color": palette.text, "text-halo-color": palette.halo, "text-halo-width": 2}

    def scaled(size: Any) -> Any:
        if text_scale == 1.0:
            return size
        if isinstance(size, int | float):
            return round(size * text_scale, 1)
        head, stops = size[:3], size[3:]  # ["interpolate", [...], ["zoom"], zoom, size, zoom, size, ...]
        return [*head, *(v if i % 2 == 0 else round(v * text_scale, 1) for i, v in enumerate(stops))]

    def label(layer_id: str, source_layer: str, size: Any, **spec: Any) -> dict[str, Any]:
        layout = {"text-field": ["get", "name"], "text-font": [MAP_FONT], "text-size": scaled(size)}
        layout.update(spec.pop("layout", {}))
        return {
            "id": layer_id,
            "type": "symbol",
            "source": source,
            "source-layer": source_layer,
            "layout": layout,
            "paint": {**halo, **spec.pop("paint", {})},
            **spec,
        }

    def place(kind: str, sizes: tuple[float, ...], minzoom: float, maxzoom: float, **spec: Any) -> dict[str, Any]:
        """Names of the ``labels`` points of one kind; ``sizes``: zoom, size, zoom, size (interpolated)."""
        size = ["interpolate", ["linear"], ["zoom"], *sizes]
        where = ["==", ["get", "kind"], kind]
        return label(f"label-{kind}", "labels", size, minzoom=minzoom, maxzoom=maxzoom, filter=where, **spec)

    street_size = ["interpolate", ["linear"], ["zoom"], 12, 11, 17, 16]
    along = {"symbol-placement": "line", "text-max-angle": 40, "symbol-spacing": 300, "text-padding": 2}
    return [
        place("village", (12, 11, 16, 14), 12, 24, paint={"text-opacity": 0.85}),
        label("label-street", "street_names", street_size, minzoom=13, layout=along),
        label(
            "label-main-road",
            "street_names",
            street_size,
            minzoom=12,
            filter=["in", ["get", "road_class"], ["literal", list(MAIN_ROAD_CLASSES)]],
            layout=along,
        ),
        {
            "id": "station-dot",
            "type": "circle",
            "source": source,
            "source-layer": "stations",
            "minzoom": 11,
            "paint": {
                "circle-radius": 4,
                "circle-color": palette.county_line,
                "circle-stroke-color": palette.halo,
                "circle-stroke-width": 1.5,
            },
        },
        label(
            "label-station",
            "stations",
            12,
            minzoom=11,
            layout={"text-anchor": "top", "text-offset": [0, 0.6]},
        ),
        place("township", (9, 24 if wall else 12, 13, 26 if wall else 15), 9, 15, paint={"text-opacity": 0.8}),
        place(
            "squad",
            (9, 36 if wall else 14, 12, 40 if wall else 18),
            8,
            13,
            layout={"text-letter-spacing": 0.1},
            paint={"text-halo-width": round(3 * text_scale) if wall else 2},
        ),
    ]


def tile_source(version: int) -> dict[str, Any]:
    """The vector tile source of the offline basemap (absolute URL: MapLibre's workers fetch it)."""
    root = flask.request.url_root.rstrip("/") if flask.has_request_context() else ""
    return {
        "type": "vector",
        "tiles": [f"{root}{VECTOR_TILE_ROUTE}/{{z}}/{{x}}/{{y}}.pbf?v={version}"],
        "minzoom": 0,
        "maxzoom": TILE_MAX_ZOOM,
    }


def _tile_version() -> int | None:
    try:
        return data.read(basemap_version, cache=True)
    except data.DataUnavailable:
        return None


def squad_area_layers(colors: dict[str, str], source: str = "basemap") -> list[dict[str, Any]]:
    """The squads' jurisdictions from the vector tiles, filled in each squad's colour (``code → colour``).

    Drawn by MapLibre from the tiles the map loads anyway: a page that only shows the squads' areas
    sends no geometry with its figure.
    """
    if not colors:
        return []
    fill = ["match", ["get", "code"], *[v for item in colors.items() for v in item], "rgba(0,0,0,0)"]
    common = {"source": source, "source-layer": "jurisdictions"}
    return [
        {"id": "squad-fill", "type": "fill", **common, "paint": {"fill-color": fill, "fill-opacity": 0.22}},
        {"id": "squad-line", "type": "line", **common, "paint": {"line-color": LIGHT.county_line, "line-width": 1.5}},
    ]


def map_style(
    *, dark: bool = False, squad_areas: dict[str, str] | None = None, text_scale: float = 1.0
) -> dict[str, Any]:
    """A MapLibre style object for ``layout.map.style``.

    ``squad_areas`` (squad code → colour) adds the squads' jurisdictions, filled, from the tiles
    (:func:`squad_area_layers`).

    Offline: the basemap and its names from the app's vector tiles (``/basemap/tiles``). With
    天地图, an XYZ URL or local tiles: those raster tiles, with the same names drawn on top.
    Names use the font the app serves (``font-faces``); the style has no ``glyphs`` URL, so
    MapLibre draws every character itself and nothing is fetched from the internet. If the
    database is unreachable the style is the plain background (the page says why). ``text_scale``
    multiplies the names' sizes (see :func:`label_layers`).
    """
    palette = DARK if dark else LIGHT
    cfg = config()
    style: dict[str, Any] = {
        "version": 8,
        "sources": {},
        "layers": [{"id": "bg", "type": "background", "paint": {"background-color": palette.background}}],
    }
    labels_below = {"id": LABELS_BELOW, "type": "background", "layout": {"visibility": "none"}}
    if source_font() is not None:
        style["font-faces"] = {MAP_FONT: FONT_ROUTE}
    if cfg.kind != "offline":
        style["sources"]["tiles"] = {"type": "raster", "tiles": list(cfg.tiles[:2]), "tileSize": 256}
        paint = {"raster-saturation": -0.8, "raster-brightness-max": 0.35} if dark else {}
        style["layers"].append({"id": "tiles", "type": "raster", "source": "tiles", "paint": paint})
        if len(cfg.tiles) > 2:  # 天地图 annotation layer
            style["sources"]["labels"] = {"type": "raster", "tiles": list(cfg.tiles[2:]), "tileSize": 256}
            style["layers"].append({"id": "labels", "type": "raster", "source": "labels", "paint": paint})
    version = _tile_version()
    if version is None:
        style["layers"].append(labels_below)  # traces are drawn below it
        return style
    style["sources"]["basemap"] = tile_source(version)
    if cfg.kind == "offline":
        style["layers"] += style_layers(palette)
    style["layers"] += squad_area_layers(squad_areas or {})
    style["layers"] += [labels_below, *label_layers(palette, wall=dark, text_scale=text_scale)]
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


def from_display(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """A point picked on the basemap back to WGS-84 (the inverse of :func:`to_display`)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return gcj02_to_wgs84(lon, lat) if config().crs == "gcj02" else (lon, lat)
