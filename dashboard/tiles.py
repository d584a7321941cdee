"""The routes the maps load their basemap from: vector tiles made by PostGIS, the font of the map's
names, and a local raster tile folder (``EGIS_BASEMAP=local:<folder>``).

Vector tiles carry an ETag: the id of the newest successful load of the data they are made of
(``layers.queries.basemap_tiles.basemap_version``). A browser revalidates with it and gets
``304 Not Modified`` until an ETL run changes the data; the style's tile URL carries the same
number (``?v=``), so a page built after a load asks for new tiles at once. Every route is behind
the login guard (``/basemap/`` answers 401 without a session, like the Dash API).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import flask
from flask import Flask, abort, send_file, send_from_directory

from dashboard import data
from dashboard.basemap import FONT_ROUTE, TILE_ROUTE, VECTOR_TILE_ROUTE, config, display_shift
from dashboard.mapfont import map_font
from geo.errors import ConfigError
from layers.queries.basemap_tiles import basemap_tile, basemap_version, tile_centre, tile_in_range

MVT_MIMETYPE = "application/vnd.mapbox-vector-tile"
TILE_MAX_AGE_S = 86400  # a tile URL names its data version, so it may be kept a day


@lru_cache(maxsize=2048)
def _tile_bytes(version: int, shift: tuple[float, float], z: int, x: int, y: int) -> bytes:
    """One tile of one data version (kept per process: twenty wall screens ask for the same tiles)."""
    del version  # part of the cache key only
    return data.read(basemap_tile, z, x, y, shift)


def current_version() -> int:
    """The data version, re-read at most every ``EGIS_DASH_CACHE_S`` seconds per process."""
    return data.read(basemap_version, cache=True)


def versioned(etag: str, version: int, body: Callable[[], flask.Response]) -> flask.Response:
    """The response of a route whose content is one data version: ``304`` when the browser has ``etag``,
    else ``body()``; kept a day when the URL names the current version (``?v=``), else revalidated."""
    response = flask.Response(status=304) if etag in flask.request.if_none_match else body()
    response.set_etag(etag)
    response.cache_control.private = True
    if flask.request.args.get("v") == str(version):
        response.cache_control.max_age = TILE_MAX_AGE_S
    else:
        response.cache_control.no_cache = True
    return response


def unavailable() -> flask.Response:
    """An empty answer, not kept, when the database cannot be read (an error would break the map)."""
    response = flask.Response(status=204)
    response.cache_control.no_store = True
    return response


def vector_tile(z: int, x: int, y: int) -> flask.Response:
    """The vector tile ``z/x/y`` with its ETag and cache headers (304 when the browser has it)."""
    if not tile_in_range(z, x, y):
        abort(404)
    try:
        version = current_version()
        shift = tuple(round(v, 7) for v in display_shift(*tile_centre(z, x, y)))
        etag = f"{version}-{shift[0]:.7f}-{shift[1]:.7f}"
        return versioned(
            etag, version, lambda: flask.Response(_tile_bytes(version, shift, z, x, y), mimetype=MVT_MIMETYPE)
        )
    except data.DataUnavailable:  # the page says why
        return unavailable()


def share_across_sessions(server: Flask, prefix: str = "/basemap/") -> None:
    """Let the browser reuse the answers under ``prefix`` across requests: no ``Vary: Cookie`` on them.

    The login guard reads the session on every request, so Flask adds ``Vary: Cookie``, and the
    session cookie is renewed on every answer: a cached tile or geometry would never match the next
    request's cookie and be downloaded again in full. What these routes serve is the same for every
    logged-in user (reference data, no case; ``private``: no shared cache keeps it), so the cookie
    is no part of the cache key. A WSGI wrapper, because Flask adds the header after every hook.
    """
    inner = server.wsgi_app

    def wsgi(environ: dict, start_response: Callable) -> Any:
        if not environ.get("PATH_INFO", "").startswith(prefix):
            return inner(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = []
            for key, value in headers:
                if key.lower() == "vary":
                    value = ", ".join(v.strip() for v in value.split(",") if v.strip().lower() != "cookie")
                    if not value:
                        continue
                kept.append((key, value))
            return start_response(status, kept, exc_info)

        return inner(environ, start)

    server.wsgi_app = wsgi


def register_basemap_routes(server: Flask) -> None:
    """Serve vector tiles, the map font and (``local:<folder>``) raster tiles from ``server``."""
    share_across_sessions(server)
    try:
        folder = config().folder
    except ConfigError:
        folder = None

    @server.route(f"{VECTOR_TILE_ROUTE}/<int:z>/<int:x>/<int:y>.pbf")
    def basemap_vector_tile(z: int, x: int, y: int):
        return vector_tile(z, x, y)

    @server.route(FONT_ROUTE)
    def basemap_font():
        path = map_font()
        if path is None:
            abort(404)
        return send_file(path, mimetype="font/ttf", max_age=30 * 86400, conditional=True)

    @server.route(f"{TILE_ROUTE}/<int:z>/<int:x>/<int:y>.<ext>")
    def basemap_tile_file(z: int, x: int, y: int, ext: str):
        if folder is None or ext not in {"png", "jpg", "jpeg", "webp", "pbf"}:
            abort(404)
        return send_from_directory(folder, f"{z}/{x}/{y}.{ext}", max_age=86400)
