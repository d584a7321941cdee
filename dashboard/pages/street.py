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
from layers.patrol import selected_street, streets_by_recency
from layers.queries import case_records, directory
from plans.adherence import stop_states
from plans.export import to_gpx
from plans.planner import SHIFT_LABELS, Plan
from plans.store import chief_task, load_plan

dash.register_page(__name__, path_template="/street/<chief>", name="街路长", title="街路长视图")

STREET_CHIEF = "street-chief"
STREET_WINDOW = "street-window"  # filters.window_controls("street")
STREET_MAP = "street-map"
STREET_LEGEND = "street-legend"
STREET_NOTES = "street-notes"
STREET_SUMMARY = "street-summary"
STREET_TREND = "street-trend"
STREET_CASES = "street-cases"
STREET_STREETS = "street-streets"
SELECTION = 1  # index of the tapped street's halo in the map's data: right after the anchor, under the patrol lines
STREET_TASK_GPX = "street-task-gpx"
STREET_TASK_XLSX = "street-task-xlsx"
STREET_TASK_DOWNLOAD = "street-task-download"

WINDOWS = {"7": "近7天", "30": "近30天", "90": "近90天"}
MAP_PX = (380, 380)  # the phone map's size in pixels, for the zoom that fits a street
DRAW_ORDER = ["patrol_coverage", "cases"]


def chief_scope(chief: str) -> Scope | None:
    """The request's scope narrowed to one chief, or None when the request may not see that chief."""
    scope = request_scope("street")
    if scope.chief_code is not None and scope.chief_code != chief:
        return None
    return dataclasses.replace(scope, chief_code=chief)


def layout(chief: str | None = None, **query: Any) -> html.Div:
    """The street chief page for ``chief`` (e.g. JL001); the window comes from the URL when it has one."""
    window = filters.from_query(query).get("window", "7")
    window = window if window in WINDOWS or filters.custom_range(window) else "7"
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
    center, zoom = view_for_bounds(bounds, width_px=MAP_PX[0], height_px=MAP_PX[1])
    style = basemap.map_style()
    try:
        traces, legend, notes, trend, cards, summary, streets = render(chief, window)
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    figure = map_figure(traces, style=style, center=center, zoom=zoom, uirevision=f"street-{chief}")
    return html.Div(
        [
            dcc.Store(id=STREET_CHIEF, data=chief),
            filters.url_store("street"),
            html.H1(f"{person['role'] or '街路长'} {person['name']}"),
            components.data_stamp(),
            html.Div(f"负责街路：{person['streets'] or '—'}", className="street-list"),
            html.Div(summary, id=STREET_SUMMARY, className="summary-line"),
            html.Div(filters.window_controls("street", window, WINDOWS, searchable=False), className="filters"),
            html.Div(  # the map stays in view while the chief scrolls through and taps the list below it
                [
                    html.Div(
                        [
                            dcc.Graph(
                                id=STREET_MAP, figure=figure, config={"displayModeBar": False}, className="street-map"
                            ),
                            html.Div(legend, id=STREET_LEGEND, className="legend"),
                        ],
                        className="street-map-pin",
                    ),
                    html.Div(notes, id=STREET_NOTES),
                    html.H3("哪些街路该巡查了（按距上次巡查时间排序，点击在地图上查看）"),
                    dcc.RadioItems(id=STREET_STREETS, options=streets, value=None, className="street-rows"),
                ],
                className="street-explore",
            ),
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
    "arrive_at": components.ExcelColumn("到达", components.TIME_FORMAT),
    "leave_at": components.ExcelColumn("离开", components.TIME_FORMAT),
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
        reasons=states["reasons"].map("；".join),
        visited=states["visited"].map({True: "是", False: "否"}),
    )
    return components.send_excel({"巡查任务": sheet}, TASK_SHEET, f"{chief}_巡查任务_{stamp}.xlsx")


def _params(chief: str, window: str | None) -> LayerParams:
    scope = chief_scope(chief)
    if scope is None:
        raise PermissionError(chief)
    # Patrols are current even when the case export lags: the window ends today.
    return filters.params(
        window=window if window in WINDOWS or filters.custom_range(window) else "7",
        end=None,
        scope=scope,
        options={"chief": chief},
    )


filters.sync("street", {"window": (STREET_WINDOW, "value")})


@callback(
    Output(STREET_MAP, "figure"),
    Output(STREET_LEGEND, "children"),
    Output(STREET_NOTES, "children"),
    Output(STREET_TREND, "figure"),
    Output(STREET_CASES, "children"),
    Output(STREET_SUMMARY, "children"),
    Output(STREET_STREETS, "options"),
    Input(STREET_WINDOW, "value"),
    Input(STREET_STREETS, "value"),
    State(STREET_CHIEF, "data"),
    prevent_initial_call=True,  # the layout carries the first view
)
def update(window, street, chief) -> tuple:
    """The chief's streets by recency of patrol, the coverage trend and the open cases on their streets;
    a tapped street in the list zooms the map to it."""
    outputs = 7  # map, legend, notes, trend, cases, summary, street list

    def only_notes(message: str) -> tuple:
        return no_update, no_update, components.notes([message]), *(no_update,) * (outputs - 3)

    try:
        if chief_scope(chief or "") is None:
            raise PermissionError(chief)
        if ctx.triggered_id == STREET_STREETS:
            return zoom_to_street(chief, window, street), *(no_update,) * (outputs - 1)
        traces, *rest = render(chief, window)
    except PermissionError:
        return only_notes("无权查看")
    except data.DataUnavailable as exc:
        return only_notes(f"⚠ {exc}")
    patch = Patch()
    patch["data"] = [t.to_plotly_json() for t in traces]
    return patch, *rest


def zoom_to_street(chief: str, window: str | None, street: str | None) -> Any:
    """A figure patch that zooms the map to ``street`` and draws a halo under it; no change for an unknown street.

    Raises what :func:`render` raises (no access to the chief, database unreadable).
    """
    results, _ = data.layers(["patrol_coverage"], _params(chief, window))  # the page's own figures, cached
    coverage = results.get("patrol_coverage")
    found = selected_street(coverage.data, street) if coverage is not None and street else None
    if found is None:
        return no_update
    (xmin, ymin, xmax, ymax), halo = found
    pad = 0.0008
    center, zoom = view_for_bounds(
        (xmin - pad, ymin - pad, xmax + pad, ymax + pad), width_px=MAP_PX[0], height_px=MAP_PX[1]
    )
    patch = Patch()
    patch["data"][SELECTION] = _selection_trace(halo).to_plotly_json()
    patch["layout"]["map"]["center"] = center
    patch["layout"]["map"]["zoom"] = zoom
    patch["layout"]["map"]["uirevision"] = f"street-{chief}-{street}"  # the new view wins over a pan
    return patch


def _selection_trace(halo: go.Scattermap | None = None) -> go.Scattermap:
    """The map trace of the tapped street (empty until one is tapped), below the names, in display coordinates."""
    trace = halo if halo is not None else go.Scattermap(lon=[], lat=[], mode="lines", hoverinfo="skip")
    trace.meta = {"layer": "_selected"}
    trace.below = basemap.LABELS_BELOW
    trace.showlegend = False
    return basemap.for_display([trace])[0]


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
            summary = f"{filters.window_label(window, WINDOWS)}{label} {fmt.percent(share, 0)} · " + summary
    streets = streets_by_recency(coverage.data) if coverage is not None and coverage.data is not None else None
    traces = layer_traces(results, DRAW_ORDER)
    traces.insert(SELECTION, _selection_trace())
    return (
        traces,
        components.legend(results, DRAW_ORDER),
        components.notes(notes),
        _trend_figure(coverage, chief),
        _case_cards(open_rows),
        summary,
        _street_options(streets),
    )


def _since(last_visit: pd.Timestamp, now: dt.datetime) -> str:
    """How long ago a street was last patrolled, as a chief reads it ("今天 09:12", "3天前")."""
    local = last_visit.tz_convert(now.tzinfo)
    days = (now.date() - local.date()).days
    if days <= 0:
        return f"今天 {local:%H:%M}"
    if days == 1:
        return f"昨天 {local:%H:%M}"
    return f"{days}天前（{local:%m-%d}）"


def _street_options(streets: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Rows of the "which street needs a patrol" list: the street, when it was last patrolled, as radio options."""
    if streets is None or streets.empty:
        return []
    now = fmt.now_local()
    options = []
    for r in streets.itertuples():
        if r.never:
            when, css = "30天以上未巡查", "todo"
            if r.never < r.segments:
                when += f"（{r.never}/{r.segments}段）"
        else:
            when, css = "上次巡查 " + _since(r.last_visit, now), "done"
        label = html.Span(
            [html.Span(r.name, className="street-name"), html.Span(when, className=css)], className="street-row"
        )
        options.append({"label": label, "value": r.name})
    return options


def _trend_figure(result, chief: str) -> go.Figure:
    """Daily coverage of the chief's streets: whole days as a line, today (under way) as a hollow marker."""
    figure = go.Figure()
    attrs = result.data.attrs if result is not None and result.data is not None else {}
    daily = attrs.get("daily_chief")
    if isinstance(daily, pd.DataFrame) and len(daily):
        mine = daily[daily["group"] == chief].sort_values("day")
        whole, partial = mine[mine["elapsed"] >= 1], mine[(mine["elapsed"] > 0) & (mine["elapsed"] < 1)]
        figure.add_scatter(x=whole["day"], y=whole["share"] * 100, mode="lines+markers", name="每日覆盖率")
        if len(partial):
            as_of = attrs.get("as_of") or fmt.now_local()
            label = f"今日截至 {as_of:%H:%M}"
            figure.add_scatter(
                x=pd.concat([whole["day"].tail(1), partial["day"]]),
                y=pd.concat([whole["share"].tail(1), partial["share"]]) * 100,
                mode="lines",
                line={"dash": "dot", "color": "#1f77b4"},
                hoverinfo="skip",
                name="今日（进行中）",
            )
            figure.add_scatter(
                x=partial["day"],
                y=partial["share"] * 100,
                mode="markers",
                marker={"symbol": "circle-open", "size": 11, "color": "#1f77b4", "line": {"width": 2}},
                hovertemplate=f"{label}：%{{y:.0f}} %<extra></extra>",
                name=label,
            )
            figure.add_annotation(
                x=partial["day"].iloc[-1], y=float(partial["share"].iloc[-1]) * 100, text=label, ax=-44, ay=-34
            )
        if len(mine):  # half a day of room either side, so today's hollow marker and its label show whole
            half = pd.Timedelta(hours=12)
            xaxis_range = [pd.Timestamp(mine["day"].min()) - half, pd.Timestamp(mine["day"].max()) + half]
            figure.update_xaxes(range=xaxis_range)
    figure.update_layout(
        margin={"l": 36, "r": 8, "t": 8, "b": 30},
        yaxis={"title": "覆盖率 %", "range": [-3, 105]},
        xaxis={"type": "date", "tickformat": "%m-%d"},
        showlegend=False,
        font={"family": "WenQuanYi Micro Hei, sans-serif", "size": 12},
        paper_bgcolor="rgba(0,0,0,0)",
    )
    return figure


CASE_DETAILS = (  # the lines of a tapped case card: label, column; times with the year
    ("案件编号", "case_number"),
    ("领域", "domain"),
    ("程序", "procedure_type"),
    ("来源", "source"),
    ("状态", "status"),
    ("上报", "received_at"),
    ("派遣", "dispatched_at"),
    ("到场", "arrived_at"),
    ("办理期限", "due_at"),
    ("案情", "description"),
)


def _case_cards(rows: pd.DataFrame | None) -> list[html.Div | html.Details]:
    """Open cases as tappable cards, the nearest deadline first (no deadline last); a tap shows the details."""
    if rows is None:
        return [html.Div("当前权限仅可查看汇总数据，不显示案件明细", className="case-card empty")]
    if rows.empty:
        return [html.Div("没有未结案件", className="case-card empty")]
    ordered = rows.sort_values(["due_at", "received_at"], na_position="last", kind="stable")
    now = fmt.now_local()
    return [_case_card(r, now) for r in ordered.head(100).itertuples()]


def _case_card(r: Any, now: dt.datetime) -> html.Details:
    """One case: category, number, address and deadline (with the year); the details below on a tap."""
    due = r.due_at if pd.notna(r.due_at) else None
    overdue = due is not None and due < now
    deadline = f"期限 {fmt.local_time(due)}" if due is not None else "无办理期限"
    if overdue:
        late = (now - due).days
        deadline += f"（已超期 {late} 天）" if late >= 1 else "（已超期）"
    details = []
    for label, column in CASE_DETAILS:
        value = getattr(r, column, None)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue
        text = fmt.local_time(value) if isinstance(value, dt.datetime) else str(value)
        details.append(html.Div([html.Span(label, className="detail-label"), html.Span(text)]))
    return html.Details(
        [
            html.Summary(
                [
                    html.Div([html.B(r.category or "案件"), html.Span(r.case_number, className="case-no")]),
                    html.Div(r.address or "（无地址）", className="case-address"),
                    html.Div(
                        [
                            html.Span(deadline, className="case-due overdue" if overdue else "case-due"),
                            html.Span(f" · {r.procedure_type or ''} · 上报 {fmt.local_time(r.received_at)}"),
                        ],
                        className="case-meta",
                    ),
                ]
            ),
            html.Div(details, className="case-details"),
        ],
        className="case-card overdue" if overdue else "case-card",
    )
