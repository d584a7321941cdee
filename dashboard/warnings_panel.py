"""预警 on the pages: the wall's list (no personal data), the squad's list with 确认 and its history,
and a street chief's warnings on their own streets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from dash import Input, Output, State, callback, html, no_update

from alerts.rules import rule_label
from alerts.store import AcknowledgeError, acknowledge, history, open_warnings
from alerts.wall import WallWarnings
from dashboard import components, data, fmt
from dashboard.access.scope import may_plan, request_scope
from dashboard.access.web import audit_request, current_principal
from geo.region import get_region
from layers.base import Scope

SQUAD_GRID = "squad-warn-grid"
SQUAD_ACK = "squad-warn-ack"
SQUAD_MSG = "squad-warn-msg"
SQUAD_HISTORY = "squad-warn-history"
HISTORY_DAYS = 30
SEVERITY = {"critical": "紧急", "warning": "警告", "info": "提示"}
STATUS = {"new": "新", "acknowledged": "已确认", "resolved": "已解除"}
GRID_COLUMNS = [
    {"field": "severity", "headerName": "级别", "maxWidth": 80},
    {"field": "rule", "headerName": "类型", "maxWidth": 150},
    {"field": "title", "headerName": "内容", "flex": 3},
    {"field": "raised", "headerName": "发生", "maxWidth": 90},
    {"field": "status", "headerName": "状态", "maxWidth": 120},
]


def wall_list(listed: WallWarnings, limit: int = 8) -> html.Div:
    """The wall's list (:mod:`alerts.wall`): severity, title and time only (titles carry no personal data),
    then one line per squad for its long-overdue cases."""
    rows = [
        html.Div(
            [
                html.Span(SEVERITY.get(r.severity, r.severity), className=f"warn-sev warn-{r.severity}"),
                html.Span(r.title, className="warn-title"),
                html.Span(fmt.local_time(r.actionable_at, "%H:%M"), className="warn-time"),
            ],
            className="warn-row",
        )
        for r in listed.rows.head(limit).itertuples()
    ]
    hours = f"{listed.hours:g}"
    overdue = [
        html.Div([html.B(r.squad), f"另有{r.n}件超期超过{hours}小时"], className="warn-overdue")
        for r in listed.overdue.itertuples()
    ]
    head = html.H2(f"预警（{listed.total}）")
    body = html.Div(rows or [html.Div("当前无预警", className="warn-empty")], className="warn-list")
    # the summaries stay in view below the list, however long it is
    return html.Div([head, body, html.Div(overdue, className="warn-overdue-lines")], className="wall-warnings")


def grid_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Open warnings as rows of the squad's grid (``row_id`` = the warning's id)."""
    return [
        {
            "row_id": str(r.id),
            "id": int(r.id),
            "severity": SEVERITY.get(r.severity, r.severity),
            "rule": rule_label(r.rule),
            "title": r.title,
            "raised": fmt.local_time(r.raised_at, "%H:%M"),
            "status": STATUS.get(r.status, r.status)
            + (f"（{r.acknowledged_by}）" if isinstance(r.acknowledged_by, str) else ""),
        }
        for r in frame.itertuples()
    ]


def history_view(frame: pd.DataFrame) -> html.Div:
    """The squad's warnings of the last days per type: count and median minutes to acknowledge."""
    if frame.empty:
        return html.Div(f"近{HISTORY_DAYS}天无预警", className="map-note")
    items = [
        html.Li(
            f"{rule_label(r.rule)}：{r.raised} 条，已确认 {r.acknowledged} 条，确认用时中位 "
            f"{fmt.minutes(None if pd.isna(r.median_ack_min) else float(r.median_ack_min))}"
        )
        for r in frame.itertuples()
    ]
    return html.Div([html.Div(f"近{HISTORY_DAYS}天预警记录", className="kpi-title"), html.Ul(items)])


def squad_lists(code: str, scope: Scope) -> tuple[list[dict[str, Any]], html.Div]:
    """The squad's open warnings (grid rows) and its history (raises :class:`data.DataUnavailable`)."""
    since = dt.datetime.now(get_region().tz) - dt.timedelta(days=HISTORY_DAYS)
    rows = grid_rows(data.read(open_warnings, scope, squad=code))
    allowed = scope.squads is None or code in scope.squads
    past = data.read(history, code, since) if allowed else pd.DataFrame(columns=["rule"])
    return rows, history_view(past)


def squad_section(code: str) -> list:
    """The squad page's 预警 section: the open warnings, 确认所选, the history."""
    try:
        rows, past = squad_lists(code, request_scope("squad"))
    except data.DataUnavailable as exc:
        return [html.H3("预警"), html.Div(f"⚠ {exc}", className="map-note")]
    return [
        html.H3("预警（选中后点击确认）"),
        components.row_grid(SQUAD_GRID, GRID_COLUMNS, rows, empty="当前无预警", height="24vh", sortable=False),
        html.Button("确认所选预警", id=SQUAD_ACK, className="button"),
        html.Span(id=SQUAD_MSG, className="map-note"),
        html.Div(past, id=SQUAD_HISTORY),
    ]


@callback(
    Output(SQUAD_MSG, "children"),
    Output(SQUAD_GRID, "rowData", allow_duplicate=True),
    Output(SQUAD_HISTORY, "children", allow_duplicate=True),
    Input(SQUAD_ACK, "n_clicks"),
    State(SQUAD_GRID, "selectedRows"),
    State("squad-code", "data"),
    prevent_initial_call=True,
)
def acknowledge_selected(_clicks: int | None, selected: list[dict] | None, code: str | None) -> tuple:
    """确认: the squad's leader (or an admin) acknowledges the selected warning, with an audit entry."""
    scope = request_scope("squad")
    if not code or not may_plan(code):
        return "无权确认该中队的预警", no_update, no_update
    if not selected:
        return "请先选中一条预警", no_update, no_update
    warning_id = int(selected[0]["id"])
    user = current_principal().username
    try:
        done = data.write(acknowledge, warning_id, user, scope)
    except AcknowledgeError:
        return "该预警已确认或已解除", no_update, no_update
    except data.DataUnavailable as exc:
        return f"⚠ {exc}", no_update, no_update
    audit_request("warning_acknowledged", target=str(warning_id), detail={"squad": code, "rule": done["rule"]})
    try:
        rows, past = squad_lists(code, scope)
    except data.DataUnavailable:
        return "已确认", no_update, no_update
    return "已确认", rows, past


def street_section(chief: str, scope: Scope) -> list:
    """A street chief's page: the open warnings on their own streets (and about their own device)."""
    try:
        frame = data.read(open_warnings, scope, chief_code=chief)
    except data.DataUnavailable as exc:
        return [html.H3("我负责街路上的预警"), html.Div(f"⚠ {exc}", className="map-note")]
    cards = [
        html.Div(
            [html.B(SEVERITY.get(r.severity, r.severity)), f" {rule_label(r.rule)} · {r.title}"],
            className="case-card",
        )
        for r in frame.itertuples()
    ]
    return [html.H3("我负责街路上的预警"), *(cards or [html.Div("当前无预警", className="case-card empty")])]
