"""Home page: what each view is for, and the county at a glance."""

from __future__ import annotations

import dash
import plotly.graph_objects as go
import shapely
from dash import dcc, html
from geoalchemy2.shape import to_shape
from sqlalchemy import select

from geo.db import reader_engine
from geo.models import AdminArea
from geo.region import get_region

dash.register_page(__name__, path="/", name="首页", title="首页")


def _county_figure() -> go.Figure:
    with reader_engine().connect() as conn:
        rows = conn.execute(select(AdminArea.name, AdminArea.level, AdminArea.geom, AdminArea.seat)).all()
    figure = go.Figure()
    for name, level, geom, _seat in rows:
        if level != "county" or geom is None:
            continue
        outline = to_shape(geom)
        for polygon in getattr(outline, "geoms", [outline]):
            x, y = shapely.get_coordinates(polygon.exterior).T
            figure.add_trace(go.Scattermap(lon=x, lat=y, mode="lines", line=dict(width=3, color="#1f4e79"), name=name))
    seats = [(name, to_shape(seat)) for name, level, _g, seat in rows if level == "township" and seat is not None]
    if seats:
        figure.add_trace(
            go.Scattermap(
                lon=[p.x for _, p in seats],
                lat=[p.y for _, p in seats],
                text=[n for n, _ in seats],
                mode="markers+text",
                textposition="top center",
                marker=dict(size=8, color="#c0392b"),
                name="乡镇驻地",
            )
        )
    region = get_region()
    minx, miny, maxx, maxy = region.outline.bounds
    figure.update_layout(
        map=dict(style="white-bg", center=dict(lon=(minx + maxx) / 2, lat=(miny + maxy) / 2), zoom=9),
        margin=dict(l=0, r=0, t=0, b=0),
        showlegend=False,
    )
    return figure


def layout(**_query) -> html.Div:
    """Built per request, so nothing touches the database at import."""
    region = get_region()
    return html.Div(
        [
            html.H1(f"{region.name}综合行政执法地图"),
            html.P("指挥中心大屏、中队长、街路长和案件列表的入口。数据全部来自本局导入的文件。"),
            dcc.Graph(id="home-county-map", figure=_county_figure(), style={"height": "70vh"}),
        ]
    )
