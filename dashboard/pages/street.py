"""街路长: a street chief's streets by time since last patrol, open cases on them, coverage trend (phone-first)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, Patch, State, callback, ctx, dcc, html, no_update

from dashboard import basemap, components, data, filters, fmt, warnings_panel
from dashboard.access.scope import request_scope
from dashboard.access.web import audit_request
from dashboard.mapview import layer_traces, map_figure, view_for_bounds
from dashboard.planview import route_traces
from geo.region import get_region
from layers.base import SUMMARY_LABELS, LayerParams, Scope
from layers.queries import case_records, directory
from plans.adherence import stop_states
from plans.export import to_gpx
from plans.planner import SHIFT_LABELS, Plan
from plans.store import chief_task, load_plan

dash.register_page(__name__, path_template="/street/<chief>", name="街路长", title="街路长视图")

STREET_CHIEF = "street-chief"
STREET_WINDOW = "street-window"
STREET_MAP = "street-map"
STREET_LEGEND = "street-legend"
STREET_NOTES = "street-notes"
STREET_SUMMARY = "street-summary"
STREET_TREND = "street-trend"
STREET_CASES = "street-cases"
STREET_TASK_GPX = "street-task-gpx"
STREET_TASK_XLSX = "street-task-xlsx"
STREET_TASK_DOWNLOAD = "street-task-download"

WINDOWS = {"7": "近7天", "30": "近30天", "90": "近90天"}
DRAW_ORDER = ["patrol_coverage", "cases"]


def chief_scope(chief: str) -> Scope | None:
    """The request's scope narrowed to one chief, or None when the request may not see that chief."""
    scope = request_scope("street")
    if scope.chief_code is not None and scope.chief_code != chief:
        return None
    return dataclasses.replace(scope, chief_code=chief)


def layout(chief: str | None = None, **_query: Any) -> html.Div:
    """The street chief page for ``chief`` (e.g. JL001)."""
    scope = chief_scope(chief or "")
    if scope is None:
        return html.Div("无权查看该街路长的数据", className="page-error")
    try:
        chiefs = data.read(directory.chiefs, scope)
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    row = chiefs[chiefs["code"] == chief]
    if row.empty:
        return html.Div([html.H2(f"未找到街路长“{chief}”"), dcc.Link("返回首页", href="/")], className="page-error")
    person = row.iloc[0]
    if pd.notna(person["xmin"]):
        bounds = tuple(float(person[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
        pad = 0.002
        bounds = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    else:
        bounds = get_region().outline.bounds
    center, zoom = view_for_bounds(bounds, width_px=380, height_px=380)
    style = basemap.map_style()
    try:
        traces, legend, notes, trend, cards, summary = render(chief, "7")
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    figure = map_figure(traces, style=style, center=center, zoom=zoom, uirevision=f"street-{chief}")
    return html.Div(
        [
            dcc.Store(id=STREET_CHIEF, data=chief),
            html.H1(f"{person['role'] or '街路长'} {person['name']}"),
            html.Div(f"负责街路：{person['streets'] or '—'}", className="street-list"),
            html.Div(summary, id=STREET_SUMMARY, className="summary-line"),
            dcc.Dropdown(
                id=STREET_WINDOW,
                options=[{"label": v, "value": k} for k, v in WINDOWS.items()],
                value="7",
                clearable=False,
                searchable=False,
            ),
            dcc.Graph(id=STREET_MAP, figure=figure, config={"displayModeBar": False}, className="street-map"),
            html.Div(legend, id=STREET_LEGEND, className="legend"),
            html.Div(notes, id=STREET_NOTES),
            *task_section(chief, style),
            *warnings_panel.street_section(chief, scope),
            html.H3("巡查覆盖趋势"),
            dcc.Graph(id=STREET_TREND, figure=trend, config={"displayModeBar": False}, className="street-trend"),
            html.H3("我负责街路上的未结案件"),
            html.Div(cards, id=STREET_CASES, className="case-cards"),
        ],
        className="page street-page",
    )


def today_task(chief: str) -> tuple[Plan, pd.DataFrame] | None:
    """The chief's approved plan for today and their stops with visited / not yet, or None without one.

    Raises
    ------
    PermissionError
        When the request may not see that chief's task (another squad, aggregates only).
    data.DataUnavailable
        When the database cannot be read.
    """
    scope = chief_scope(chief)
    if scope is None or scope.aggregates_only:
        raise PermissionError(chief)
    if data.read(directory.chiefs, scope).query("code == @chief").empty:
        raise PermissionError(chief)
    found = data.read(chief_task, chief, dt.datetime.now(get_region().tz).date())
    if found is None:
        return None
    plan = data.read(load_plan, *found)
    plan.routes = [r for r in plan.routes if r.chief_code == chief]
    return plan, data.read(stop_states, *found, chief)


def task_section(chief: str, style: dict) -> list:
    """ "今日巡查任务": the route on a map, the stops in order with their state, GPX and Excel downloads."""
    try:
        task = today_task(chief)
    except PermissionError:
        return []
    except data.DataUnavailable as exc:
        return [html.H3("今日巡查任务"), html.Div(f"⚠ {exc}", className="map-note")]
    if task is None:
        return [html.H3("今日巡查任务"), html.Div("今天没有已批准的巡查任务", className="case-card empty")]
    plan, states = task
    route = plan.routes[0]
    done = int(states["visited"].sum())
    points = [(s.lon, s.lat) for s in route.stops]
    if route.geometry is not None:
        points += list(route.geometry.coords)
    xs, ys = zip(*points, strict=True)
    center, zoom = view_for_bounds((min(xs), min(ys), max(xs), max(ys)), width_px=360, height_px=300)
    figure = map_figure(route_traces(plan), style=style, center=center, zoom=zoom, uirevision=f"task-{chief}")
    return [
        html.H3("今日巡查任务"),
        html.Div(
            f"{SHIFT_LABELS.get(plan.request.shift, '')} {route.start_at:%H:%M} 出发 · {len(route.stops)} 个巡查点 · "
            f"{route.length_m / 1000:.1f} 公里 · 已巡查 {done}/{len(route.stops)}",
            className="summary-line",
        ),
        dcc.Graph(figure=figure, config={"displayModeBar": False}, className="street-map task-map"),
        html.Ol(
            [
                html.Li(
                    [
                        html.Span(f"{r.arrive_at:%H:%M} {r.segment_name or r.segment_key}"),
                        html.Span("已巡查" if r.visited else "未巡查", className="done" if r.visited else "todo"),
                    ],
                    className="task-stop",
                )
                for r in states.itertuples()
            ],
            className="task-stops",
        ),
        html.Div(
            [
                html.Button("下载路线（GPX）", id=STREET_TASK_GPX, className="button"),
                html.Button("下载任务单（Excel）", id=STREET_TASK_XLSX, className="button"),
            ],
            className="task-downloads",
        ),
        dcc.Download(id=STREET_TASK_DOWNLOAD),
    ]


TASK_SHEET = {
    "seq": "序号",
    "segment_name": "路段",
    "arrive_at": "到达",
    "leave_at": "离开",
    "reasons": "原因",
    "visited": "已巡查",
}


@callback(
    Output(STREET_TASK_DOWNLOAD, "data"),
    Input(STREET_TASK_GPX, "n_clicks"),
    Input(STREET_TASK_XLSX, "n_clicks"),
    State(STREET_CHIEF, "data"),
    prevent_initial_call=True,
)
def download_task(_gpx, _xlsx, chief) -> Any:
    """Today's route as GPX (for navigation apps) or the stops as an Excel sheet, read afresh."""
    try:
        task = today_task(chief)
    except data.DataUnavailable:
        return no_update
    if task is None:
        return no_update
    plan, states = task
    stamp = f"{plan.request.date:%Y%m%d}"
    if ctx.triggered_id == STREET_TASK_GPX:
        audit_request("export", target=f"{chief}_巡查路线_{stamp}.gpx")
        return dcc.send_string(to_gpx(plan, chief), f"{chief}_巡查路线_{stamp}.gpx")
    sheet = states.assign(
        segment_name=states["segment_name"].fillna(states["segment_key"]),
        arrive_at=states["arrive_at"].dt.strftime("%H:%M"),
        leave_at=states["leave_at"].dt.strftime("%H:%M"),
        reasons=states["reasons"].map("；".join),
        visited=states["visited"].map({True: "是", False: "否"}),
    )[list(TASK_SHEET)].rename(columns=TASK_SHEET)
    return components.send_excel({"巡查任务": sheet}, f"{chief}_巡查任务_{stamp}.xlsx")


def _params(chief: str, window: str | None) -> LayerParams:
    scope = chief_scope(chief)
    if scope is None:
        raise PermissionError(chief)
    # Patrols are current even when the case export lags: the window ends today.
    return filters.params(
        window=window if window in WINDOWS else "7",
        end=None,
        scope=scope,
        options={"chief": chief},
    )


@callback(
    Output(STREET_MAP, "figure"),
    Output(STREET_LEGEND, "children"),
    Output(STREET_NOTES, "children"),
    Output(STREET_TREND, "figure"),
    Output(STREET_CASES, "children"),
    Output(STREET_SUMMARY, "children"),
    Input(STREET_WINDOW, "value"),
    State(STREET_CHIEF, "data"),
    prevent_initial_call=True,  # the layout carries the first view
)
def update(window, chief) -> tuple:
    """The chief's streets by recency of patrol, the coverage trend and the open cases on their streets."""
    try:
        traces, *rest = render(chief, window)
    except PermissionError:
        return no_update, no_update, components.notes(["无权查看"]), no_update, no_update, no_update
    except data.DataUnavailable as exc:
        return no_update, no_update, components.notes([f"⚠ {exc}"]), no_update, no_update, no_update
    patch = Patch()
    patch["data"] = [t.to_plotly_json() for t in traces]
    return patch, *rest


def render(chief: str, window: str | None) -> tuple:
    """Map traces, legend, notes, trend figure, open-case cards and summary for one chief and window.

    Raises
    ------
    PermissionError
        When the request may not see that chief.
    data.DataUnavailable
        When the database cannot be read.
    """
    params = _params(chief, window)
    results, notes = data.layers(["patrol_coverage"], params)
    # Open cases: every open case on the chief's streets, whatever the window.
    open_params = dataclasses.replace(params, start=None, end=None)
    if params.scope.aggregates_only:  # the data step refuses case rows to this scope
        open_rows, summary = None, "仅可查看汇总数据"
    else:
        rows = data.read(case_records.case_rows, open_params, limit=None)
        open_rows = rows[rows["closed_at"].isna()] if len(rows) else rows
        summary = f"未结案件 {len(open_rows)} 件"
    coverage = results.get("patrol_coverage")
    if coverage is not None:
        share = coverage.summary.get("coverage_share")
        if share is not None:
            label = SUMMARY_LABELS["coverage_share"]
            summary = f"{WINDOWS.get(window, '近7天')}{label} {fmt.percent(share, 0)} · " + summary
    return (
        layer_traces(results, DRAW_ORDER),
        components.legend(results, DRAW_ORDER),
        components.notes(notes),
        _trend_figure(coverage, chief),
        _case_cards(open_rows),
        summary,
    )


def _trend_figure(result, chief: str) -> go.Figure:
    figure = go.Figure()
    daily = result.data.attrs.get("daily_chief") if result is not None and result.data is not None else None
    if isinstance(daily, pd.DataFrame) and len(daily):
        mine = daily[daily["group"] == chief].sort_values("day")
        figure.add_scatter(x=mine["day"], y=mine["share"] * 100, mode="lines+markers", name="每日覆盖率")
    figure.update_layout(
        margin={"l": 36, "r": 8, "t": 8, "b": 30},
        yaxis={"title": "覆盖率 %", "range": [0, 105]},
        xaxis={"type": "date", "tickformat": "%m-%d"},
        showlegend=False,
        font={"family": "WenQuanYi Micro Hei, sans-serif", "size": 12},
        paper_bgcolor="rgba(0,0,0,0)",
    )
    return figure


def _case_cards(rows: pd.DataFrame | None) -> list[html.Div]:
    if rows is None:
        return [html.Div("当前权限仅可查看汇总数据，不显示案件明细", className="case-card empty")]
    if rows.empty:
        return [html.Div("没有未结案件", className="case-card empty")]
    return [
        html.Div(
            [
                html.Div([html.B(r.category or "案件"), html.Span(r.case_number, className="case-no")]),
                html.Div(r.address or "（无地址）", className="case-address"),
                html.Div(
                    f"{r.procedure_type or ''} · 上报 {r.received_at:%m-%d %H:%M}"
                    + (f" · 期限 {r.due_at:%m-%d}" if pd.notna(r.due_at) else ""),
                    className="case-meta",
                ),
            ],
            className="case-card",
        )
        for r in rows.head(100).itertuples()
    ]
