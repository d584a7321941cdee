"""Security headers on every response: Content-Security-Policy, framing, referrer, MIME sniffing, HSTS.

The policy allows scripts from the app itself and, by hash, the few inline scripts Dash writes
into its index page (the renderer start and clientside callbacks), so an injected script cannot
run. Styles may be inline (plotly and AG Grid write ``<style>`` elements), images and MapLibre's
workers may come from ``blob:``, and a configured tile server is allowed for tiles.
"""

from __future__ import annotations

from urllib.parse import urlparse

import flask
from dash import Dash

from dashboard.basemap import config as basemap_config
from geo.errors import ConfigError
from geo.settings import get_settings

REFERRER_POLICY = "strict-origin-when-cross-origin"


def _tile_origins() -> list[str]:
    """Origins of the configured tile server (none for the offline and the app-served basemaps)."""
    try:
        tiles = basemap_config().tiles
    except ConfigError:
        return []
    origins = {f"{url.scheme}://{url.netloc}" for url in map(urlparse, tiles) if url.scheme and url.netloc}
    return sorted(origins)


def content_security_policy(app: Dash) -> str:
    """The Content-Security-Policy of ``app`` (call after every page and callback is registered)."""
    tiles = _tile_origins()
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *app.csp_hashes()],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *tiles],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *tiles],
        "worker-src": ["'self'", "blob:"],
        "child-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def install_security_headers(app: Dash) -> None:
    """Add the security headers to every response of the app's Flask server."""
    policy: list[str] = []  # computed at the first response, once Dash has collected its inline scripts

    @app.server.after_request
    def security_headers(response: flask.Response) -> flask.Response:
        if not policy:
            policy.append(content_security_policy(app))
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy[0])
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        if get_settings().secure_cookies:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
