"""案件列表: searchable case list with the geocode level, the review queue (cases a person should check), and a map."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, Patch, State, callback, ctx, dcc, html, no_update

from dashboard import basemap, components, data, filters
from dashboard.access.scope import may_fix_addresses, request_scope
from dashboard.access.store import audit
from dashboard.access.web import current_principal
from dashboard.mapview import anchor, map_figure, view_for_bounds
from geo.address_fix import AddressFix, fix_case_address
from geo.errors import RequestError
from geo.geocode import load_geocoder
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
CASES_PAGE = "cases-page"
CASES_PREV = "cases-prev"
CASES_NEXT = "cases-next"
CASES_FIX_PANEL = "cases-fix-panel"
CASES_FIX_CASE = "cases-fix-case"
CASES_FIX_ADDRESS = "cases-fix-address"
CASES_FIX_REGEOCODE = "cases-fix-regeocode"
CASES_FIX_PLACE = "cases-fix-place"
CASES_FIX_POINT = "cases-fix-point"
CASES_FIX_MESSAGE = "cases-fix-message"
CASES_FIXED = "cases-fixed"

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
# Query-string key → the control it restores (dashboard.filters.sync / from_query).
URL_FIELDS = {
    "tab": (CASES_TABS, "value"),
    "q": (CASES_SEARCH, "value"),
    "squad": (CASES_SQUAD, "value"),
    "window": ("cases-window", "value"),
    "category": ("cases-category", "value"),
    "procedure": ("cases-procedure", "value"),
}
filters.sync("cases", URL_FIELDS)


def layout(**query: Any) -> html.Div:
    """The case list page; the filters come from the URL's query string when it has them."""
    scope = request_scope("cases")
    wanted = filters.from_query(query)
    tab = wanted.get("tab") if wanted.get("tab") in ("all", "review") else "all"
    window = wanted.get("window", "30")
    try:
        squads = data.read(directory.squads, scope)
        categories = data.read(directory.categories, scope)
        end = data.read(directory.default_window_end, scope)
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    center, zoom = view_for_bounds(get_region().outline.bounds, width_px=700, height_px=600)
    end_text = end.isoformat()
    chosen = (wanted.get("q"), wanted.get("squad"), window, wanted.get("category"), wanted.get("procedure"))
    try:
        rows, count_text, page = _listing(tab, *chosen, end_text, 0)
    except RequestError as exc:
        rows, count_text, page = [], f"⚠ {exc}", 0
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    traces = case_traces(rows, [], None)  # the first map drawn with the page, not after the grid's round trip
    figure = map_figure(
        traces, style=basemap.map_style(), center=center, zoom=zoom, uirevision="cases", showlegend=len(traces) > 1
    )
    grid = components.case_grid(CASES_GRID, height="64vh")
    grid.rowData = rows
    grid.columnDefs = [
        *components.CASE_GRID_COLUMNS,
        {"field": "review_reason", "headerName": "核查原因", "minWidth": 140},
    ]
    side = [dcc.Graph(id=CASES_MAP, figure=figure, style={"height": "64vh"})]
    if may_fix_addresses():
        side.append(_fix_panel())
    return html.Div(
        [
            dcc.Store(id=CASES_END, data=end_text),
            dcc.Store(id=CASES_PAGE, data=page),
            dcc.Store(id=CASES_FIX_POINT),
            dcc.Store(id=CASES_FIXED),
            filters.url_store("cases"),
            dcc.Download(id=CASES_DOWNLOAD),
            html.Div([html.H1("案件列表"), components.data_stamp()], className="page-head"),
            html.Div(
                [
                    html.Label(
                        [
                            "搜索",
                            dcc.Input(
                                id=CASES_SEARCH,
                                type="search",
                                placeholder="案件编号、地址、类别或案情",
                                debounce=True,
                                value=wanted.get("q"),
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
                                value=wanted.get("squad"),
                                multi=True,
                                placeholder="全部中队",
                            ),
                        ],
                        className="squad-picker",
                    ),
                    filters.controls(
                        "cases", categories, window=window, category=wanted.get("category"),
                        procedure=wanted.get("procedure"),
                    ),
                ],
                className="toolbar",
            ),
            dcc.Tabs(
                id=CASES_TABS,
                value=tab,
                children=[dcc.Tab(label="全部案件", value="all"), dcc.Tab(label="待核查地址", value="review")],
            ),
            html.Div(
                [
                    html.Div(count_text, id=CASES_COUNT, className="summary-line"),
                    html.Div(
                        [
                            html.Button("上一页", id=CASES_PREV, className="button"),
                            html.Button("下一页", id=CASES_NEXT, className="button"),
                            html.Button("导出（Excel）", id=CASES_EXPORT, className="button"),
                        ],
                        className="button-row",
                    ),
                ],
                className="grid-head",
            ),
            html.Div(
                [html.Div(grid, className="col-map"), html.Div(side, className="col-side")],
                className="two-cols",
            ),
        ],
        className="page cases-page",
    )  # fmt: skip


def _fix_panel() -> html.Div:
    """The admin's address fix: a corrected text to geocode again, or a point clicked on the map."""
    return html.Div(
        [
            html.H3("修正地址"),
            html.Div("先在列表中选择一件案件", id=CASES_FIX_CASE, className="summary-line"),
            dcc.Input(id=CASES_FIX_ADDRESS, type="text", placeholder="修正后的地址", style={"width": "100%"}),
            html.Div(
                [
                    html.Button("按新地址重新定位", id=CASES_FIX_REGEOCODE, className="button"),
                    html.Button("采用地图点选位置", id=CASES_FIX_PLACE, className="button"),
                ],
                className="button-row",
            ),
            html.Div("也可在地图上点击案件的实际位置，再点“采用地图点选位置”", id=CASES_FIX_MESSAGE, className="note"),
        ],
        id=CASES_FIX_PANEL,
        className="fix-panel",
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


def _read(tab: str, params, search: str | None, limit: int | None, offset: int = 0, number: str | None = None):
    if tab == "review":
        rows = data.read(case_records.review_queue, params, limit=limit, offset=offset)
        return rows, data.read(case_records.review_count, params)
    if number is not None:  # a case number names one case, whatever the window
        return data.read(case_records.case_rows, params, case_number=number, limit=limit, offset=offset), 1
    rows = data.read(case_records.case_rows, params, search=search or None, limit=limit, offset=offset)
    total = data.read(case_records.case_count, params, search=search or None)
    return rows, total


def _number(tab: str, params, text: str | None) -> tuple[Any, str | None]:
    """The parameters to search with, and the case number the text names (then without a window)."""
    if tab == "review" or not text or params.scope.aggregates_only:
        return params, None
    number = data.read(case_records.case_number_match, params, text)
    if number is None:
        return params, None
    return replace(params, start=None, end=None, categories=(), procedure_types=()), number


@callback(
    Output(CASES_GRID, "rowData"),
    Output(CASES_COUNT, "children"),
    Output(CASES_PAGE, "data"),
    Input(CASES_TABS, "value"),
    Input(CASES_SEARCH, "value"),
    Input(CASES_SQUAD, "value"),
    Input("cases-window", "value"),
    Input("cases-category", "value"),
    Input("cases-procedure", "value"),
    Input(CASES_PREV, "n_clicks"),
    Input(CASES_NEXT, "n_clicks"),
    Input(CASES_FIXED, "data"),
    State(CASES_PAGE, "data"),
    State(CASES_END, "data"),
    prevent_initial_call=True,  # the layout carries the first rows
)
def search(tab, text, squads, window, categories, procedures, _prev, _next, _fixed, page, end) -> tuple:
    """One page of the rows matching the search and filters (or of the review queue)."""
    step = {CASES_PREV: -1, CASES_NEXT: 1, CASES_FIXED: 0}.get(ctx.triggered_id)
    page = max(0, int(page or 0) + step) if step is not None else 0
    try:
        return _listing(tab, text, squads, window, categories, procedures, end, page)
    except RequestError as exc:  # e.g. a search text longer than the bound
        return [], f"⚠ {exc}", 0
    except data.DataUnavailable as exc:
        return no_update, f"⚠ {exc}", no_update


def _listing(
    tab, text, squads, window, categories, procedures, end, page: int
) -> tuple[list[dict[str, Any]], str, int]:
    params = _params(end, window, categories, procedures, squads)
    period = f"在 {params.start:%Y-%m-%d} 至 {params.end:%Y-%m-%d} 内"
    if params.scope.aggregates_only:  # counts only: the data step refuses case rows to this scope
        if tab == "review":
            return [], f"{period} · {AGGREGATES_ONLY}", 0
        total = data.read(case_records.case_count, params, search=text or None)
        return [], f"{period}共 {total} 件 · {AGGREGATES_ONLY}", 0
    params, number = _number(tab, params, text)
    if number is not None:
        rows, _ = _read(tab, params, None, 1, number=number)
        return components.grid_rows(rows), f"案件编号 {number}（不限时间范围）", 0
    total = data.read(case_records.review_count, params) if tab == "review" else None
    if total is None:
        total = data.read(case_records.case_count, params, search=text or None)
    pages = max(1, -(-total // PAGE_ROWS))
    page = min(max(0, page), pages - 1)
    rows, _ = _read(tab, params, text, PAGE_ROWS, page * PAGE_ROWS)
    what = " · 待核查地址 " if tab == "review" else ""
    shown = ""
    if total > len(rows):
        first = page * PAGE_ROWS + 1
        shown = f"，第 {page + 1}/{pages} 页（第 {first}–{first + len(rows) - 1} 件）"
    return components.grid_rows(rows), f"{period}{what}共 {total} 件{shown}", page


@callback(
    Output(CASES_MAP, "figure"),
    Input(CASES_GRID, "virtualRowData"),
    Input(CASES_GRID, "selectedRows"),
    Input(CASES_FIX_POINT, "data"),
    prevent_initial_call=True,  # the layout draws the first rows: an initial call (no rows yet) would wipe them
)
def draw(rows, selected, picked) -> Any:
    """Map of the rows in the grid (after its own filters), zoomed to them, the selected one highlighted."""
    if rows is None:  # the grid has not reported its rows yet
        return no_update
    rows = rows or []
    located = [r for r in rows if r.get("lon") is not None and r.get("lat") is not None]
    patch = Patch()
    patch["data"] = [t.to_plotly_json() for t in case_traces(rows, selected, picked)]
    patch["layout"]["showlegend"] = True
    if located and f"{CASES_GRID}.virtualRowData" in (ctx.triggered_prop_ids or {}):  # zoom to the results
        bounds = _bounds(located)
        center, zoom = view_for_bounds(bounds, width_px=700, height_px=600)
        patch["layout"]["map"]["center"] = center
        patch["layout"]["map"]["zoom"] = min(zoom, 17.0)
        patch["layout"]["uirevision"] = f"cases-{bounds}"
    return patch


def case_traces(rows: list[dict[str, Any]], selected: list[dict[str, Any]] | None, picked: Any) -> list[Any]:
    """The case map's traces: an empty first trace, the located ``rows`` by geocoding level, the
    ``selected`` rows highlighted and the point an admin ``picked`` on the map (display CRS).

    Drawn by the layout from the grid's first rows (the first map needs no round trip) and by :func:`draw`.
    """
    located = [r for r in rows if r.get("lon") is not None and r.get("lat") is not None]
    traces = [anchor()]
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
    if isinstance(picked, dict) and picked.get("lon") is not None:
        traces.append(
            go.Scattermap(
                lon=[picked["lon"]],
                lat=[picked["lat"]],
                mode="markers",
                marker={"size": 16, "color": "#7b3294"},
                name="地图点选位置",
                hoverinfo="skip",
            )
        )
    return traces


def _bounds(rows: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    lons = [float(r["lon"]) for r in rows]
    lats = [float(r["lat"]) for r in rows]
    pad = 0.002
    return (min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad)


@callback(
    Output(CASES_FIX_CASE, "children"),
    Output(CASES_FIX_ADDRESS, "value"),
    Input(CASES_GRID, "selectedRows"),
    prevent_initial_call=True,
)
def fix_form(selected) -> tuple:
    """The selected case in the fix panel, its address ready to edit."""
    if not may_fix_addresses():
        return "无权修改案件地址", ""
    row = (selected or [None])[0]
    if not row:
        return "先在列表中选择一件案件", ""
    return f"{row.get('case_number')} · {row.get('geocode_level') or ''} · {row.get('review_reason') or ''}", row.get(
        "address"
    ) or ""


@callback(
    Output(CASES_FIX_MESSAGE, "children"),
    Output(CASES_FIXED, "data"),
    Input(CASES_FIX_REGEOCODE, "n_clicks"),
    Input(CASES_FIX_PLACE, "n_clicks"),
    State(CASES_GRID, "selectedRows"),
    State(CASES_FIX_ADDRESS, "value"),
    State(CASES_FIX_POINT, "data"),
    prevent_initial_call=True,
)
def fix(_regeocode, _place, selected, address, picked) -> tuple:
    """Fix the selected case's address (admin only): geocode the corrected text, or take the clicked point."""
    if not may_fix_addresses():
        return "无权修改案件地址", no_update
    row = (selected or [None])[0]
    if not row or row.get("id") is None:
        return "请先在列表中选择一件案件", no_update
    point = None
    if ctx.triggered_id == CASES_FIX_PLACE:
        if not isinstance(picked, dict) or picked.get("lon") is None:
            return "请先在地图上点击案件的实际位置", no_update
        lon, lat = basemap.from_display([picked["lon"]], [picked["lat"]])
        point = (float(lon[0]), float(lat[0]))
    username = current_principal().username
    try:
        done = data.write(fix_address, int(row["id"]), address=address, point=point, username=username)
    except RequestError as exc:
        return f"⚠ {exc}", no_update
    except data.DataUnavailable as exc:
        return f"⚠ {exc}", no_update
    taught = "，已记入地名库" if done.learnt_key else ""
    return f"已修正 {done.case_number}：定位到{done.level}{taught}", done.case_number


def fix_address(conn, case_id: int, *, address: str | None, point, username: str) -> AddressFix:
    """Fix one case and audit it in the same transaction (for :func:`dashboard.data.write`)."""
    geocoder = load_geocoder(conn, refresh=True)
    done = fix_case_address(conn, case_id, geocoder, address=address, point=point, username=username)
    audit(conn, username, "fix_address", target=done.case_number, detail=done.audit_detail())
    return done


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
    """Every matching row (not only the page shown) as Excel, read afresh under the request's scope."""
    params = _params(end, window, categories, procedures, squads)
    try:
        params, number = _number(tab, params, text)
        rows, _ = _read(tab, params, text, None, number=number)
    except (data.DataUnavailable, RequestError):
        return no_update
    name = "待核查地址" if tab == "review" else "案件"
    return components.send_excel(
        {name: rows}, case_records.EXPORT_HEADERS, f"{name}_{params.start:%Y%m%d}-{params.end:%Y%m%d}.xlsx"
    )
