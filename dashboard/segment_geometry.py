"""The street segments' geometry for the browser: one compact JSON per data version, and the URL that
names it in the map traces of whole segments (:func:`layers._geometry.segment_trace`).

A map update then sends segment ids, never their coordinates: ``dashboard/assets/geomref.js``
fetches this once (the browser keeps it a day: the URL names the data version, the tiles' version
:func:`dashboard.tiles.current_version`) and expands the traces before plotly draws them.

The body: ``ids`` (segment ids), ``n`` (vertices per segment, in order), ``x``/``y`` (vertices in
units of 1e-5 degree, each the difference from the one before, the first from 0), ``breaks``
(positions of vertices that begin a further part of a multi-part segment). Coordinates are those
drawn on the basemap (shifted to GCJ-02 when the basemap is).
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from typing import Any

import flask
import numpy as np
from flask import Flask
from plotly.basedatatypes import BaseTraceType

from dashboard import data
from dashboard.basemap import config, to_display
from dashboard.tiles import current_version, unavailable, versioned
from layers._geometry import DECIMALS, geometry_reference
from layers.queries.segment_geometry import segment_geometry

SEGMENT_GEOMETRY_ROUTE = "/basemap/segments.json"  # behind the login guard with the tiles (``/basemap/``)


def encode(ids: np.ndarray, starts: np.ndarray, coords: np.ndarray, breaks: np.ndarray) -> bytes:
    """The JSON body described in the module docstring, for display coordinates ``coords`` (``(n, 2)``)."""
    units = np.round(np.asarray(coords, dtype=float).reshape(-1, 2) * 10**DECIMALS).astype(np.int64)
    deltas = np.diff(units, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    body = {
        "ids": np.asarray(ids, dtype=np.int64).tolist(),
        "n": np.diff(np.asarray(starts, dtype=np.int64)).tolist(),
        "x": deltas[:, 0].tolist(),
        "y": deltas[:, 1].tolist(),
        "breaks": np.asarray(breaks, dtype=np.int64).tolist(),
    }
    return json.dumps(body, separators=(",", ":")).encode()


@lru_cache(maxsize=4)
def _body(version: int, crs: str) -> tuple[bytes, bytes]:
    """The body of one data version and display CRS, plain and gzipped (kept per process)."""
    del version, crs  # the cache key only
    geometry = data.read(segment_geometry)
    lon, lat = to_display(geometry.coords[:, 0], geometry.coords[:, 1])
    plain = encode(geometry.ids, geometry.starts, np.column_stack([lon, lat]), geometry.breaks)
    return plain, gzip.compress(plain, 6)


def segments_response() -> flask.Response:
    """The segments' geometry with its ETag and cache headers (304 when the browser has it)."""
    try:
        version = current_version()
        crs = config().crs

        def body() -> flask.Response:
            plain, packed = _body(version, crs)
            if "gzip" in flask.request.accept_encodings:
                response = flask.Response(packed, mimetype="application/json")
                response.headers["Content-Encoding"] = "gzip"
            else:
                response = flask.Response(plain, mimetype="application/json")
            response.vary.add("Accept-Encoding")
            return response

        return versioned(f"segments-{version}-{crs}", version, body)
    except data.DataUnavailable:  # the lines stay undrawn; the page says why
        return unavailable()


def geometry_url() -> str:
    """The URL of the segments' geometry of the current data version (``?v=``: the browser keeps it)."""
    try:
        return f"{SEGMENT_GEOMETRY_ROUTE}?v={current_version()}"
    except data.DataUnavailable:
        return SEGMENT_GEOMETRY_ROUTE


def with_geometry_url(traces: list[BaseTraceType]) -> list[BaseTraceType]:
    """``traces`` with the URL of their geometry set added to each reference (:func:`geometry_url`)."""
    url: str | None = None
    for trace in traces:
        reference = geometry_reference(trace)
        if reference is not None:
            url = url or geometry_url()
            trace.meta = {**trace.meta, "geometry": {**reference, "url": url}}
    return traces


def register_geometry_route(server: Flask) -> None:
    """Serve the segments' geometry from ``server``."""

    @server.route(SEGMENT_GEOMETRY_ROUTE)
    def basemap_segments() -> Any:
        return segments_response()
