"""Create the Dash app (pages registered from ``dashboard/pages``); no database access at import."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, dcc, html

from dashboard.auth.web import install_auth
from geo.region import get_region


def create_app() -> Dash:
    """The dashboard application with every page registered."""
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
                            if page.get("nav", True)
                        ]
                    ),
                ],
                className="app-header",
            ),
            html.Main(dash.page_container),
        ]
    )
    return app
