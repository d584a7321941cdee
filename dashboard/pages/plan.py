"""巡查计划: a squad leader makes, adjusts and approves a routed patrol plan per street chief and shift,
and sees afterwards how far the approved plans were followed (adherence from the GPS visits)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import basemap, components, data, filters
from dashboard.access.scope import may_plan, request_scope
from dashboard.access.web import audit_request, current_principal
from dashboard.mapview import anchor, map_figure, view_for_bounds
from dashboard.planview import route_traces
from geo.region import get_region
from layers.queries import directory
from plans.adherence import adherence, weekly
from plans.errors import PlanError
from plans.planner import SHIFT_LABELS, Plan, PlanCache, PlanRequest
from plans.prizes import Weights
from plans.store import approve, approved_plans, make_and_save

dash.register_page(__name__, path_template="/plan/<code>", name="巡查计划", title="巡查计划", nav=False)

PLAN_CODE = "plan-code"
PLAN_STATE = "plan-state"
PLAN_DATE = "plan-date"
PLAN_SHIFT = "plan-shift"
PLAN_CHIEFS = "plan-chiefs"
PLAN_MINUTES = "plan-minutes"
PLAN_MODE = "plan-mode"
PLAN_WEIGHTS = "plan-weights"
PLAN_MAKE = "plan-make"
PLAN_MAP = "plan-map"
PLAN_SUMMARY = "plan-summary"
PLAN_MESSAGES = "plan-messages"
PLAN_STOPS = "plan-stops"
PLAN_DROP = "plan-drop"
PLAN_MOVE_TO = "plan-move-to"
PLAN_MOVE = "plan-move"
PLAN_ADD_SEGMENT = "plan-add-segment"
PLAN_ADD = "plan-add"
PLAN_APPROVE = "plan-approve"
PLAN_APPROVED = "plan-approved"
PLAN_ADHERENCE = "plan-adherence"

DENIED = "无权制定该中队的巡查计划"
MODE_LABELS = {"foot": "步行", "ebike": "电动车", "car": "巡逻车"}
WEIGHT_LABELS = {
    "hot": "案件热点",
    "cases": "近期案件",
    "under": "案件多、巡查少",
    "returns": "待复查案件",
    "warnings": "预警",
    "sanitation": "环卫问题",
}
STOP_COLUMNS = [
    {"field": "chief", "headerName": "街路长", "maxWidth": 110},
    {"field": "seq", "headerName": "序号", "maxWidth": 80},
    {"field": "name", "headerName": "路段"},
    {"field": "arrive", "headerName": "到达", "maxWidth": 90},
    {"field": "leave", "headerName": "离开", "maxWidth": 90},
    {"field": "length_m", "headerName": "长度(米)", "maxWidth": 100},
    {"field": "reasons", "headerName": "原因"},
]
ADHERENCE_LABELS = {
    "chief_name": "街路长",
    "planned": "计划路段",
    "visited": "已巡查",
    "visited_share": "完成率",
    "planned_min": "计划分钟",
    "on_plan_min": "计划路段上分钟",
    "detour_km": "计划外里程(公里)",
    "detour_min": "计划外分钟",
    "plans": "计划数",
}

# Re-plan caches (prizes, shortest paths) by plan id, within this process; a miss only costs time.
_CACHES: OrderedDict[int, PlanCache] = OrderedDict()
_CACHES_LOCK = threading.Lock()
_CACHES_MAX = 16


# Date and shift kept in the URL (dashboard.filters.sync / from_query).
filters.sync("plan", {"date": (PLAN_DATE, "date"), "shift": (PLAN_SHIFT, "value")}, custom_range_control=False)


def layout(code: str | None = None, **query: Any) -> html.Div:
    """The planning page of squad ``code`` (admin and that squad's leader only); date and shift from the URL."""
    if not may_plan(code):
        audit_request("page_denied", target=f"/plan/{code}")
        return html.Div(DENIED, className="page-error")
    scope = request_scope("plan")
    try:
        squads = data.read(directory.squads, scope)
        chiefs = data.read(directory.chiefs, scope)
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    row = squads[squads["code"] == code]
    if row.empty:
        return html.Div([html.H2(f"未找到中队“{code}”"), dcc.Link("返回首页", href="/")], className="page-error")
    squad = row.iloc[0]
    mine = chiefs[chiefs["squad_code"] == code]
    chief_options = [{"label": f"{r.name}（{r.code}）", "value": r.code} for r in mine.itertuples()]
    bounds = tuple(float(squad[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
    center, zoom = view_for_bounds(bounds, width_px=900, height_px=560)
    figure = map_figure(
        [anchor()],
        style=basemap.map_style(),
        center=center,
        zoom=zoom,
        uirevision=f"plan-{code}",
        showlegend=True,
    )
    today = dt.datetime.now(get_region().tz).date()
    wanted = filters.from_query(query)
    try:
        day = dt.date.fromisoformat(wanted.get("date", ""))
    except ValueError:
        day = today
    shift = wanted.get("shift") if wanted.get("shift") in SHIFT_LABELS else "day"
    return html.Div(
        [
            dcc.Store(id=PLAN_CODE, data=code),
            dcc.Store(id=PLAN_STATE),
            filters.url_store("plan"),
            html.Div(
                [
                    html.H1(f"{squad['name']} · 巡查计划"),
                    dcc.Link("返回中队视图", href=f"/squad/{code}"),
                    components.data_stamp(),
                ],
                className="page-head",
            ),
            html.Div(
                [
                    html.Label(["日期", dcc.DatePickerSingle(id=PLAN_DATE, date=day, display_format="YYYY-MM-DD")]),
                    html.Label(
                        [
                            "班次",
                            dcc.Dropdown(
                                id=PLAN_SHIFT,
                                options=[{"label": v, "value": k} for k, v in SHIFT_LABELS.items()],
                                value=shift,
                                clearable=False,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "在岗街路长",
                            dcc.Dropdown(
                                id=PLAN_CHIEFS,
                                options=chief_options,
                                value=[o["value"] for o in chief_options],
                                multi=True,
                            ),
                        ],
                        className="plan-chiefs",
                    ),
                    html.Label(["每人分钟", dcc.Input(id=PLAN_MINUTES, type="number", value=120, min=10, step=10)]),
                    html.Label(
                        [
                            "巡查方式",
                            dcc.Dropdown(
                                id=PLAN_MODE,
                                options=[{"label": v, "value": k} for k, v in MODE_LABELS.items()],
                                value="foot",
                                clearable=False,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "考虑因素",
                            dcc.Checklist(
                                id=PLAN_WEIGHTS,
                                options=[{"label": v, "value": k} for k, v in WEIGHT_LABELS.items()],
                                value=list(WEIGHT_LABELS),
                                inline=True,
                            ),
                        ]
                    ),
                    html.Button("生成计划", id=PLAN_MAKE, className="button primary"),
                ],
                className="toolbar plan-inputs",
            ),
            dcc.Loading(
                [
                    html.Div("选择条件后点击“生成计划”", id=PLAN_SUMMARY, className="summary-line"),
                    html.Div(id=PLAN_MESSAGES),
                    html.Div(
                        [
                            html.Div(
                                dcc.Graph(
                                    id=PLAN_MAP,
                                    figure=figure,
                                    config={"scrollZoom": True, "displaylogo": False},
                                    style={"height": "60vh"},
                                ),
                                className="col-map",
                            ),
                            html.Div(
                                [
                                    html.H3("巡查点（选择一行后可删除或改派）"),
                                    components.row_grid(
                                        PLAN_STOPS,
                                        STOP_COLUMNS,
                                        [],
                                        empty="尚未生成计划",
                                        height="40vh",
                                        sortable=False,
                                    ),
                                    html.Div(
                                        [
                                            html.Button("删除所选路段", id=PLAN_DROP, className="button"),
                                            dcc.Dropdown(id=PLAN_MOVE_TO, options=chief_options, placeholder="改派给…"),
                                            html.Button("改派", id=PLAN_MOVE, className="button"),
                                        ],
                                        className="plan-adjust",
                                    ),
                                    html.Div(
                                        [
                                            dcc.Dropdown(id=PLAN_ADD_SEGMENT, options=[], placeholder="加入路段…"),
                                            html.Button("加入路段", id=PLAN_ADD, className="button"),
                                        ],
                                        className="plan-adjust",
                                    ),
                                    html.Button("批准", id=PLAN_APPROVE, className="button primary"),
                                    html.Div(id=PLAN_APPROVED, className="summary-line"),
                                ],
                                className="col-side",
                            ),
                        ],
                        className="two-cols",
                    ),
                ],
                type="circle",
            ),
            html.H3("计划执行情况"),
            html.Div(id=PLAN_ADHERENCE),
        ],
        className="page plan-page",
    )


def _guard(code: str | None) -> None:
    if not may_plan(code):
        raise PermissionError(f"may not plan for squad {code}")


def _request(code: str, inputs: dict[str, Any], state: dict[str, Any]) -> PlanRequest:
    chosen = set(inputs.get("weights") or [])
    defaults = Weights()
    weights = Weights(**{k: (getattr(defaults, k) if k in chosen else 0.0) for k in WEIGHT_LABELS})
    return PlanRequest(
        squad=code,
        date=dt.date.fromisoformat(str(inputs["date"])[:10]),
        shift=inputs.get("shift") or "day",
        chiefs=tuple(inputs.get("chiefs") or ()),
        minutes=int(inputs.get("minutes") or 0),
        mode=inputs.get("mode") or "foot",
        weights=weights,
        drop=frozenset(state.get("drop", [])),
        add=frozenset(state.get("add", [])),
        assign={int(k): v for k, v in state.get("assign", {}).items()},
    )


@callback(
    Output(PLAN_MAP, "figure"),
    Output(PLAN_STOPS, "rowData"),
    Output(PLAN_SUMMARY, "children"),
    Output(PLAN_MESSAGES, "children"),
    Output(PLAN_STATE, "data"),
    Output(PLAN_ADD_SEGMENT, "options"),
    Input(PLAN_MAKE, "n_clicks"),
    Input(PLAN_DROP, "n_clicks"),
    Input(PLAN_MOVE, "n_clicks"),
    Input(PLAN_ADD, "n_clicks"),
    State(PLAN_CODE, "data"),
    State(PLAN_DATE, "date"),
    State(PLAN_SHIFT, "value"),
    State(PLAN_CHIEFS, "value"),
    State(PLAN_MINUTES, "value"),
    State(PLAN_MODE, "value"),
    State(PLAN_WEIGHTS, "value"),
    State(PLAN_STATE, "data"),
    State(PLAN_STOPS, "selectedRows"),
    State(PLAN_MOVE_TO, "value"),
    State(PLAN_ADD_SEGMENT, "value"),
    State(PLAN_MAP, "figure"),
    prevent_initial_call=True,
)
def run(
    _make, _drop, _move, _add, code, day, shift, chiefs, minutes, mode, weights, state, selected, move_to, add, fig
):
    """Make a plan ("生成计划") or re-plan after an adjustment (drop, move, add); each result is stored as a draft."""
    _guard(code)
    trigger = ctx.triggered_id
    if trigger == PLAN_MAKE or not state:
        if not day:
            return (no_update,) * 3 + (components.notes(["请选择日期"]),) + (no_update,) * 2
        inputs = {"date": day, "shift": shift, "chiefs": chiefs, "minutes": minutes, "mode": mode, "weights": weights}
        state = {"inputs": inputs, "plan_id": None, "drop": [], "add": [], "assign": {}}
    else:
        state = _adjusted(state, trigger, selected, move_to, add)
        if state is None:
            return (no_update,) * 3 + (components.notes(["请先在表格中选择一个巡查点"]),) + (no_update,) * 2
    request = _request(code, state["inputs"], state)
    author = current_principal().username
    with _CACHES_LOCK:
        cache = _CACHES.get(state["plan_id"]) if state["plan_id"] else None
    try:
        plan, plan_id, version = data.write(make_and_save, request, author, state["plan_id"], cache)
    except PlanError as exc:
        return no_update, [], "无法生成计划", components.notes([f"⚠ {exc}"]), no_update, no_update
    except data.DataUnavailable as exc:
        return no_update, no_update, no_update, components.notes([f"⚠ {exc}"]), no_update, no_update
    with _CACHES_LOCK:
        _CACHES[plan_id] = plan.cache
        while len(_CACHES) > _CACHES_MAX:
            _CACHES.popitem(last=False)
    state = {**state, "plan_id": plan_id, "version": version}
    figure = go.Figure(fig) if fig else go.Figure()
    figure.data = []
    for trace in route_traces(plan):
        figure.add_trace(trace)
    return (
        figure,
        stop_rows(plan),
        summary_text(plan, version),
        components.notes(plan.messages),
        state,
        _segment_options(plan),
    )


def _adjusted(state: dict, trigger: str, selected: list | None, move_to: str | None, add: int | None) -> dict | None:
    """The adjustment asked for, added to ``state``; None when it needs a selected stop and has none."""
    drop, added, assign = list(state.get("drop", [])), list(state.get("add", [])), dict(state.get("assign", {}))
    if trigger == PLAN_ADD:
        if add is None:
            return None
        added.append(int(add))
        drop = [s for s in drop if s != int(add)]
    else:
        if not selected:
            return None
        segment = int(selected[0]["segment_id"])
        if trigger == PLAN_DROP:
            drop.append(segment)
            added = [s for s in added if s != segment]
            assign.pop(str(segment), None)
        elif trigger == PLAN_MOVE:
            if not move_to:
                return None
            assign[str(segment)] = move_to
    return {**state, "drop": sorted(set(drop)), "add": sorted(set(added)), "assign": assign}


def stop_rows(plan: Plan) -> list[dict[str, Any]]:
    """The stops of every route for the table, in order per chief."""
    return [
        {
            "row_id": f"{route.chief_code}-{s.seq}",
            "chief_code": route.chief_code,
            "chief": route.chief_name,
            "seq": s.seq,
            "segment_id": s.segment_id,
            "name": s.name or s.segment_key,
            "arrive": f"{s.arrive_at:%H:%M}",
            "leave": f"{s.leave_at:%H:%M}",
            "length_m": round(s.length_m),
            "reasons": "；".join(s.reasons),
        }
        for route in plan.routes
        for s in route.stops
    ]


def summary_text(plan: Plan, version: int) -> str:
    """One line of the plan's figures."""
    s = plan.summary
    return (
        f"计划第 {version} 版（草稿，待批准）：{s['chiefs']} 名街路长 · {s['stops']} 个巡查点 · "
        f"共 {s['length_km']:.1f} 公里 · "
        f"热点路段巡查 {s['hot_minutes']:.0f} 分钟 · 覆盖热点路段长度 {s['hot_share'] * 100:.0f}% · "
        f"求解器 {s['solver']}（限时 {s['time_limit_s']:.0f} 秒）"
    )


def _segment_options(plan: Plan) -> list[dict[str, Any]]:
    """Segments not in the plan, most worth patrolling first, for "加入路段"."""
    if plan.cache is None or plan.cache.prizes is None:
        return []
    planned = {s.segment_id for r in plan.routes for s in r.stops}
    frame = plan.cache.prizes[~plan.cache.prizes["segment_id"].isin(planned)].sort_values("prize", ascending=False)
    return [
        {"label": f"{r.name or r.segment_key}（{r.prize:.1f}）", "value": int(r.segment_id)}
        for r in frame.head(300).itertuples()
    ]


@callback(
    Output(PLAN_APPROVED, "children"),
    Input(PLAN_APPROVE, "n_clicks"),
    State(PLAN_CODE, "data"),
    State(PLAN_STATE, "data"),
    prevent_initial_call=True,
)
def approve_plan(_clicks, code, state) -> str:
    """Approve the version on screen (approver and time stored; an audit entry written)."""
    _guard(code)
    if not state or not state.get("plan_id"):
        return "请先生成计划"
    plan_id, version = int(state["plan_id"]), int(state["version"])
    who = current_principal().username
    try:
        data.write(approve, plan_id, version, who)
    except PlanError as exc:
        return f"⚠ {exc}"
    except data.DataUnavailable as exc:
        return f"⚠ {exc}"
    audit_request("plan_approve", target=f"{code}/{plan_id}", detail={"version": version})
    now = dt.datetime.now(get_region().tz)
    return f"已批准：第 {version} 版 · 批准人 {who} · {now:%Y-%m-%d %H:%M}"


@callback(
    Output(PLAN_ADHERENCE, "children"),
    Input(PLAN_DATE, "date"),
    State(PLAN_CODE, "data"),
)
def show_adherence(day, code) -> list:
    """How the approved plans of the chosen (past) day were followed, per chief, and the week's sums."""
    _guard(code)
    if not day:
        return [html.Div("请选择日期", className="map-note")]
    chosen = dt.date.fromisoformat(str(day)[:10])
    if chosen >= dt.datetime.now(get_region().tz).date():
        return [html.Div("计划执行情况在计划日期之后可查看（选择过去的日期）", className="map-note")]
    week_start = chosen - dt.timedelta(days=chosen.weekday())
    try:
        plans = data.read(approved_plans, chosen, code)
        tables = [
            (f"{SHIFT_LABELS.get(p.shift, p.shift)} · 第 {p.version} 版", data.read(adherence, p.plan_id, p.version))
            for p in plans.itertuples()
        ]
        week = data.read(weekly, code, week_start)
    except data.DataUnavailable as exc:
        return [html.Div(f"⚠ {exc}", className="map-note")]
    out: list = []
    if not tables:
        out.append(html.Div(f"{chosen:%Y-%m-%d} 没有已批准的计划", className="map-note"))
    for title, table in tables:
        out += [html.H4(f"{chosen:%Y-%m-%d} {title}"), adherence_table(table)]
    out += [html.H4(f"本周（{week_start:%m-%d} 起）合计"), adherence_table(week)]
    return out


def adherence_table(frame: pd.DataFrame) -> html.Table:
    """An adherence frame as a small HTML table with Chinese headings (完成率 in percent)."""
    columns = [c for c in ADHERENCE_LABELS if c in frame.columns]
    if frame.empty:
        return html.Table([html.Tr([html.Td("暂无数据")])], className="plan-table")
    head = html.Tr([html.Th(ADHERENCE_LABELS[c]) for c in columns])
    body = [
        html.Tr([html.Td(f"{v * 100:.0f}%" if c == "visited_share" else v) for c, v in zip(columns, row, strict=True)])
        for row in frame[columns].itertuples(index=False)
    ]
    return html.Table([head, *body], className="plan-table")
