"""街路长: a street chief's streets by time since last patrol, open cases on them, coverage trend (phone-first)."""

from __future__ import annotations

import dataclasses
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, Patch, State, callback, dcc, html, no_update

from dashboard import basemap, components, data, filters, fmt
from dashboard.access import request_scope
from dashboard.mapview import layer_traces, map_figure, view_for_bounds
from layers.base import SUMMARY_LABELS, LayerParams, Scope
from layers.queries import case_records, directory

dash.register_page(__name__, path_template="/street/<chief>", name="街路长", title="街路长视图")

STREET_CHIEF = "street-chief"
STREET_WINDOW = "street-window"
STREET_MAP = "street-map"
STREET_LEGEND = "street-legend"
STREET_NOTES = "street-notes"
STREET_SUMMARY = "street-summary"
STREET_TREND = "street-trend"
STREET_CASES = "street-cases"

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
        from geo.region import get_region

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
            html.H3("巡查覆盖趋势"),
            dcc.Graph(id=STREET_TREND, figure=trend, config={"displayModeBar": False}, className="street-trend"),
            html.H3("我负责街路上的未结案件"),
            html.Div(cards, id=STREET_CASES, className="case-cards"),
        ],
        className="page street-page",
    )


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
