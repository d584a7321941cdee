"""Create the Dash app (pages registered from ``dashboard/pages``); no database access at import."""

from __future__ import annotations

import contextlib
from pathlib import Path

import dash
from dash import Dash, dcc, html

from dashboard.access.headers import install_security_headers
from dashboard.access.scope import guard_page_layouts
from dashboard.access.web import install_auth
from dashboard.health import register_health_routes
from dashboard.segment_geometry import register_geometry_route
from dashboard.tiles import register_basemap_routes
from geo.region import get_region


def create_app() -> Dash:
    """The dashboard application with every page registered and the local tile route."""
    region = get_region()
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(Path(__file__).parent / "pages"),
        title=f"{region.bureau} 执法地图",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    install_auth(app, f"{region.bureau} 执法地图")
    guard_page_layouts()
    register_basemap_routes(app.server)
    register_geometry_route(app.server)
    register_health_routes(app.server)
    install_security_headers(app)
    app.layout = html.Div(
        [
            dcc.Location(id="app-location"),
            html.Header(
                [
                    html.Span(f"{region.bureau} · 综合执法地图", className="app-title"),
                    html.Nav(
                        [
                            dcc.Link(page["name"], href=page["relative_path"])
                            for page in dash.page_registry.values()
                            if page.get("nav", True) and not page.get("path_template")
                        ]
                    ),
                ],
                className="app-header",
            ),
            html.Main(dash.page_container),
        ]
    )
    _register_resources(app)
    return app


def _register_resources(app: Dash) -> None:
    """Render the index once so every script path is registered before threads serve requests.

    Dash registers the paths of its JavaScript while it writes the index page; a threaded worker
    (gunicorn ``--threads``) could otherwise serve a script request during that and answer 500.
    The index is static HTML: no layout and no database access happens here.
    """
    with app.server.test_request_context("/"):
        app.index()  # directly, not through the login guard


def warm_up() -> None:
    """Pay a worker's one-time costs before it serves anyone: plotly's trace validators (built on first
    use), the map traces' JSON encoding, and a database connection with PostGIS loaded.

    Without it the first page each new worker renders takes seconds longer than the next one. A
    database that cannot be reached is left for the pages to report.
    """
    import plotly.graph_objects as go
    from plotly.io import to_json

    from dashboard import data
    from layers.queries.basemap_tiles import basemap_version

    traces = [go.Scattermap(lon=[0.0], lat=[0.0]), go.Choroplethmap(geojson="/", locations=[1], z=[0]), go.Densitymap()]
    to_json(go.Figure(traces, layout={"map": {"style": {"version": 8, "sources": {}, "layers": []}}}))
    with contextlib.suppress(data.DataUnavailable):
        data.read(basemap_version)
