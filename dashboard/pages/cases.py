"""案件列表: searchable case list with the geocode level, the review queue (cases a person should check), and a map."""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, Patch, State, callback, dcc, html, no_update

from dashboard import basemap, components, data, filters
from dashboard.access.scope import request_scope
from dashboard.mapview import map_figure, view_for_bounds
from geo.errors import RequestError
from geo.region import get_region
from layers.queries import case_records, directory

dash.register_page(__name__, path="/cases", name="案件列表", title="案件列表")

CASES_SEARCH = "cases-search"
CASES_SQUAD = "cases-squad"
CASES_TABS = "cases-tabs"
CASES_GRID = "cases-grid"
CASES_COUNT = "cases-count"
CASES_MAP = "cases-map"
CASES_END = "cases-end"
CASES_EXPORT = "cases-export"
CASES_DOWNLOAD = "cases-download"

PAGE_ROWS = 500
AGGREGATES_ONLY = "当前权限仅可查看汇总数据，不显示案件明细"
LEVEL_COLORS = {
    "门牌": "#1a9850",
    "交叉口": "#66bd63",
    "道路": "#a6d96a",
    "小区或地点": "#fdae61",
    "村社区": "#f46d43",
    "乡镇": "#d73027",
}


def layout(**_query: Any) -> html.Div:
    """The case list page."""
    scope = request_scope("cases")
    try:
        squads = data.read(directory.squads, scope)
        categories = data.read(directory.categories, scope)
        end = data.read(directory.default_window_end, scope)
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    center, zoom = view_for_bounds(get_region().outline.bounds, width_px=700, height_px=600)
    figure = map_figure([], style=basemap.map_style(), center=center, zoom=zoom, uirevision="cases")
    end_text = end.isoformat()
    try:
        rows, count_text = _listing("all", None, None, "30", None, None, end_text)
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    grid = components.case_grid(CASES_GRID, height="64vh")
    grid.rowData = rows
    grid.columnDefs = [
        *components.CASE_GRID_COLUMNS,
        {"field": "review_reason", "headerName": "核查原因", "minWidth": 140},
    ]
    return html.Div(
        [
            dcc.Store(id=CASES_END, data=end_text),
            dcc.Download(id=CASES_DOWNLOAD),
            html.H1("案件列表"),
            html.Div(
                [
                    html.Label(
                        [
                            "搜索",
                            dcc.Input(
                                id=CASES_SEARCH, type="search", placeholder="案件编号、地址、类别或案情", debounce=True
                            ),
                        ],
                        className="search",
                    ),
                    html.Label(
                        [
                            "中队",
                            dcc.Dropdown(
                                id=CASES_SQUAD,
                                options=[
                                    {"label": n, "value": c}
                                    for c, n in zip(squads["code"], squads["name"], strict=True)
                                ],
                                multi=True,
                                placeholder="全部中队",
                            ),
                        ],
                        className="squad-picker",
                    ),
                    filters.controls("cases", categories, window="30"),
                ],
                className="toolbar",
            ),
            dcc.Tabs(
                id=CASES_TABS,
                value="all",
                children=[dcc.Tab(label="全部案件", value="all"), dcc.Tab(label="待核查地址", value="review")],
            ),
            html.Div(
                [
                    html.Div(count_text, id=CASES_COUNT, className="summary-line"),
                    html.Button("导出（Excel）", id=CASES_EXPORT, className="button"),
                ],
                className="grid-head",
            ),
            html.Div(
                [
                    html.Div(grid, className="col-map"),
                    html.Div(dcc.Graph(id=CASES_MAP, figure=figure, style={"height": "64vh"}), className="col-side"),
                ],
                className="two-cols",
            ),
        ],
        className="page cases-page",
    )


def _params(end, window, categories, procedures, squads):
    return filters.params(
        window=window,
        end=end,
        scope=request_scope("cases"),
        squads=tuple(squads or ()),
        categories=categories,
        procedures=procedures,
    )


def _read(tab: str, params, search: str | None, limit: int | None):
    if tab == "review":
        rows = data.read(case_records.review_queue, params, limit=limit)
        return rows, data.read(case_records.review_count, params)
    rows = data.read(case_records.case_rows, params, search=search or None, limit=limit)
    total = data.read(case_records.case_count, params, search=search or None)
    return rows, total


@callback(
    Output(CASES_GRID, "rowData"),
    Output(CASES_COUNT, "children"),
    Input(CASES_TABS, "value"),
    Input(CASES_SEARCH, "value"),
    Input(CASES_SQUAD, "value"),
    Input("cases-window", "value"),
    Input("cases-category", "value"),
    Input("cases-procedure", "value"),
    State(CASES_END, "data"),
    prevent_initial_call=True,  # the layout carries the first rows
)
def search(tab, text, squads, window, categories, procedures, end) -> tuple:
    """The first rows matching the search and filters (or the review queue)."""
    try:
        return _listing(tab, text, squads, window, categories, procedures, end)
    except RequestError as exc:  # e.g. a search text longer than the bound
        return [], f"⚠ {exc}"
    except data.DataUnavailable as exc:
        return no_update, f"⚠ {exc}"


def _listing(tab, text, squads, window, categories, procedures, end) -> tuple[list[dict[str, Any]], str]:
    params = _params(end, window, categories, procedures, squads)
    period = f"{params.start:%Y-%m-%d} 至 {params.end:%Y-%m-%d}"
    if params.scope.aggregates_only:  # counts only: the data step refuses case rows to this scope
        if tab == "review":
            return [], f"{period} · {AGGREGATES_ONLY}"
        total = data.read(case_records.case_count, params, search=text or None)
        return [], f"{period} · 共 {total} 件 · {AGGREGATES_ONLY}"
    rows, total = _read(tab, params, text, PAGE_ROWS)
    if tab == "review":
        shown = f"，显示最需核查的 {len(rows)} 件（导出含全部）" if total > len(rows) else ""
        return components.grid_rows(rows), f"{period} · 待核查地址 共 {total} 件{shown}"
    shown = f"，显示最新 {len(rows)} 件" if total and total > len(rows) else ""
    return components.grid_rows(rows), f"{period} · 共 {total} 件{shown}"


@callback(
    Output(CASES_MAP, "figure"),
    Input(CASES_GRID, "virtualRowData"),
    Input(CASES_GRID, "selectedRows"),
)
def draw(rows, selected) -> Any:
    """Map of the rows currently in the grid (after its own filters), the selected one highlighted."""
    rows = rows or []
    located = [r for r in rows if r.get("lon") is not None and r.get("lat") is not None]
    traces = []
    for level, color in LEVEL_COLORS.items():
        part = [r for r in located if r.get("geocode_level") == level]
        if not part:
            continue
        lon, lat = basemap.to_display([r["lon"] for r in part], [r["lat"] for r in part])
        traces.append(
            go.Scattermap(
                lon=lon.round(6),
                lat=lat.round(6),
                mode="markers",
                marker={"size": 9, "color": color},
                customdata=[r["id"] for r in part],
                text=[r["case_number"] for r in part],
                hovertemplate="%{text}<extra>" + level + "</extra>",
                name=f"定位到{level}",
            )
        )
    chosen = [r for r in (selected or []) if r.get("lon") is not None]
    if chosen:
        lon, lat = basemap.to_display([r["lon"] for r in chosen], [r["lat"] for r in chosen])
        traces.append(
            go.Scattermap(
                lon=lon,
                lat=lat,
                mode="markers",
                marker={"size": 20, "color": "#1f4e79", "opacity": 0.6},
                name="所选案件",
                hoverinfo="skip",
            )
        )
    patch = Patch()
    patch["data"] = [go.Scattermap(lon=[], lat=[], hoverinfo="skip", showlegend=False).to_plotly_json()] + [
        t.to_plotly_json() for t in traces
    ]
    patch["layout"]["showlegend"] = True
    return patch


@callback(
    Output(CASES_DOWNLOAD, "data"),
    Input(CASES_EXPORT, "n_clicks"),
    State(CASES_TABS, "value"),
    State(CASES_SEARCH, "value"),
    State(CASES_SQUAD, "value"),
    State("cases-window", "value"),
    State("cases-category", "value"),
    State("cases-procedure", "value"),
    State(CASES_END, "data"),
    prevent_initial_call=True,
)
def export(_clicks, tab, text, squads, window, categories, procedures, end) -> Any:
    """Every matching row (not only the first page) as Excel, read afresh under the request's scope."""
    params = _params(end, window, categories, procedures, squads)
    try:
        rows, _ = _read(tab, params, text, None)
    except (data.DataUnavailable, RequestError):
        return no_update
    name = "待核查地址" if tab == "review" else "案件"
    return components.send_excel(
        {name: rows}, case_records.EXPORT_HEADERS, f"{name}_{params.start:%Y%m%d}-{params.end:%Y%m%d}.xlsx"
    )
