"""Home page: what each view is for, links to every squad and street chief, and the county map."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, Patch, callback, clientside_callback, dcc, html, no_update

from dashboard import basemap, components, data
from dashboard.access.scope import request_scope
from dashboard.access.web import current_principal
from dashboard.mapview import layer_traces, map_figure, measure_js, measured_size, view_for_bounds
from geo.region import get_region
from layers._style import squad_colors
from layers.base import LayerParams
from layers.queries import directory

dash.register_page(__name__, path="/", name="首页", title="首页")

HOME_MAP = "home-county-map"
HOME_SQUADS = "home-squads"
HOME_CHIEFS = "home-chiefs"
HOME_MINE = "home-mine"
HOME_MAP_SIZE = "home-map-size"  # the map's size as the browser laid it out (a phone: narrow and tall)
HOME_MAP_SIZE_SOURCE = "home-map-size-source"
DESIGN_MAP_PX = (800, 640)  # the size the first view is fitted to, before the browser has measured

VIEWS = [
    (
        "/wall",
        "指挥中心大屏",
        "挂在指挥中心的大屏（1920×1080 或 4K）：全县案件热点、13个中队到场时间、年度指标与去年同期对比，"
        "自动刷新，不显示任何个人信息。",
    ),
    (
        "/squad/…",
        "中队长视图",
        "每个中队一页：辖区热点、街路巡查覆盖、“案件多、巡查少”的重点路段排名、办结用时与时限对比；"
        "点击网格或路段查看案件，可导出 Excel。",
    ),
    (
        "/street/…",
        "街路长视图",
        "每位街路长一页，适合手机查看：负责街路距上次巡查的时间、街路上的未结案件、巡查覆盖趋势。",
    ),
    ("/cases", "案件列表", "检索全部案件，查看地址定位精度，处理地址未匹配的待核查案件，并在地图上查看所选案件。"),
]


def layout(**_query: Any) -> html.Div:
    """Built per request, so nothing touches the database at import."""
    region = get_region()
    scope = request_scope("home")
    try:
        squads = data.read(directory.squads, scope)
        chiefs = data.read(directory.chiefs, scope)
        results, notes = data.layers(["stations"], LayerParams(scope=scope))
    except data.DataUnavailable as exc:
        return html.Div([html.H1(f"{region.name}综合行政执法地图"), html.Div(f"⚠ {exc}", className="page-error")])
    center, zoom = view_for_bounds(region.outline.bounds, *DESIGN_MAP_PX)
    # The squads' areas come from the basemap's vector tiles (drawn by MapLibre), not as geometry in
    # the page: the first map needs no layer rendering and its figure stays a few KB.
    figure = map_figure(
        layer_traces(results, ["stations"]),
        style=basemap.map_style(squad_areas=squad_colors(sorted(squads["code"]))),
        center=center,
        zoom=zoom,
        uirevision="home",
    )
    names = dict(zip(squads["code"], squads["name"], strict=True))
    return html.Div(
        [
            html.H1(f"{region.name}综合行政执法地图"),
            *_own_link(names, dict(zip(chiefs["code"], chiefs["name"], strict=True))),
            html.P(f"{region.bureau}的案件、巡查与环卫数据地图。所有数据均来自本局导入的文件。"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Div(
                                [
                                    html.Div(
                                        [
                                            dcc.Link(title, href=href) if "…" not in href else html.B(title),
                                            html.P(text),
                                        ],
                                        className="view-card",
                                    )
                                    for href, title, text in VIEWS
                                ],
                                className="view-cards",
                            ),
                            html.H3("中队"),
                            html.Div(
                                [
                                    dcc.Link(name, href=f"/squad/{code}", className="chip")
                                    for code, name in names.items()
                                ],
                                id=HOME_SQUADS,
                                className="chips",
                            ),
                            html.H3("街路长"),
                            html.Div(
                                [
                                    html.Div(
                                        [
                                            html.Span(names.get(squad, squad or "未分配"), className="chief-squad"),
                                            *[
                                                dcc.Link(
                                                    f"{r.name}（{r.code}）", href=f"/street/{r.code}", className="chip"
                                                )
                                                for r in group.itertuples()
                                            ],
                                        ],
                                        className="chips",
                                    )
                                    for squad, group in chiefs.groupby(chiefs["squad_code"].fillna(""), sort=True)
                                ],
                                id=HOME_CHIEFS,
                            ),
                        ],
                        className="col-map",
                    ),
                    html.Div(
                        [
                            dcc.Graph(
                                id=HOME_MAP, figure=figure, style={"height": "72vh"}, config={"scrollZoom": True}
                            ),
                            dcc.Store(id=HOME_MAP_SIZE_SOURCE, data=1),
                            dcc.Store(id=HOME_MAP_SIZE),
                            *components.notes(notes),
                        ],
                        className="col-side",
                    ),
                ],
                className="two-cols home-cols",
            ),
        ],
        className="page home-page",
    )


clientside_callback(measure_js(f"#{HOME_MAP}"), Output(HOME_MAP_SIZE, "data"), Input(HOME_MAP_SIZE_SOURCE, "data"))


@callback(Output(HOME_MAP, "figure"), Input(HOME_MAP_SIZE, "data"), prevent_initial_call=True)
def fit_county(measured: Any) -> Any:
    """Fit the county to the map as the browser laid it out (a phone's map is narrow and tall); nothing
    to do when that is about the size the first view was fitted to."""
    size = measured_size(measured)
    if size is None:  # not measured (no layout within 5 s): the first view stays
        return no_update
    bounds = get_region().outline.bounds
    center, zoom = view_for_bounds(bounds, *size)
    if abs(zoom - view_for_bounds(bounds, *DESIGN_MAP_PX)[1]) < 0.05:
        return no_update
    patch = Patch()
    patch["layout"]["map"]["center"] = center
    patch["layout"]["map"]["zoom"] = zoom
    return patch


def _own_link(squads: dict[str, str], chiefs: dict[str, str]) -> list[dcc.Link]:
    """The user's own page first (a street chief's streets, a squad leader's squad); nothing for other roles."""
    principal = current_principal()
    target = principal.landing_path
    if principal.role == "street_chief" and principal.chief_code:
        label = f"我的街路：{chiefs.get(principal.chief_code, '')}（{principal.chief_code}）"
    elif principal.role == "squad_leader" and principal.squad_code:
        label = f"我的中队：{squads.get(principal.squad_code, principal.squad_code)}"
    else:
        return []
    return [dcc.Link(label + " →", href=target, id=HOME_MINE, className="my-page-link")]
