"""中队长: one squad's hotspots, patrol coverage, under-patrolled streets, response times, and its cases."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, Patch, State, callback, clientside_callback, ctx, dcc, html, no_update

from dashboard import basemap, charts, components, data, filters, fmt, live, warnings_panel
from dashboard.access.scope import request_scope
from dashboard.mapview import (
    FOCUS_LAYER,
    clicked,
    focus_traces,
    focus_view,
    hide_groups,
    layer_traces,
    map_figure,
    view_for_bounds,
)
from layers.base import SUMMARY_LABELS, LayerParams
from layers.queries import case_records, directory, time_used, when
from layers.queries.live import TRACE_NAMES
from layers.queries.segment_focus import SegmentFocus, segment_focus

dash.register_page(__name__, path_template="/squad/<code>", name="中队", title="中队长视图")

SQUAD_CODE = "squad-code"
SQUAD_MAP = "squad-map"
SQUAD_OVERLAYS = "squad-overlays"
SQUAD_LEGEND = "squad-legend"
SQUAD_NOTES = "squad-notes"
SQUAD_SUMMARY = "squad-summary"
SQUAD_RANKED = "squad-ranked"
SQUAD_RESPONSE = "squad-response"
SQUAD_CASES = "squad-cases"
SQUAD_CASES_TITLE = "squad-cases-title"
SQUAD_DRILL = "squad-drill"
SQUAD_EXPORT_CASES = "squad-export-cases"
SQUAD_EXPORT_RANKED = "squad-export-ranked"
SQUAD_DOWNLOAD = "squad-download"
SQUAD_END = "squad-end"
SQUAD_HIDDEN = "squad-hidden"
SQUAD_LEGEND_ITEM = "squad-legend-item"
SQUAD_WHEN = "squad-when"
SQUAD_WHEN_SEGMENT = "squad-when-segment"
SQUAD_WHEN_SEGMENT_TITLE = "squad-when-segment-title"
WHEN_SEGMENT_PROMPT = "所选路段的案件时段（在地图或列表中选择路段）"
NO_SEGMENT = "尚未选择路段"
SQUAD_FOCUS = "squad-focus"

OVERLAYS = {
    "patrol_coverage": "巡查覆盖",
    "hotspots": "案件热点",
    "underpatrolled": "重点路段",
    "cases": "案件点位",
    "sanitation": "环卫作业",
}
DEFAULT_OVERLAYS = ["patrol_coverage", "hotspots", "underpatrolled"]
DRAW_ORDER = ["jurisdictions", "sanitation", "patrol_coverage", "hotspots", "cases", "underpatrolled", "stations"]
RANKED_COLUMNS = [
    {"field": "rank", "headerName": "排名", "maxWidth": 80},
    {"field": "label", "headerName": "路段"},
    {"field": "chief", "headerName": "街路长"},
    {"field": "cases", "headerName": "案件", "maxWidth": 90},
    {"field": "cases_per_km", "headerName": "每公里案件", "maxWidth": 120},
    {"field": "dwell_min", "headerName": "巡查分钟", "maxWidth": 110},
]
OPEN_TRACE = "未办结（已用）"
SEGMENT_LAYERS = {"patrol_coverage", "underpatrolled", "streets", "hotspots_segment"}
# The filters kept in the URL (dashboard.filters.sync / from_query).
URL_FIELDS = {
    "window": ("squad-window", "value"),
    "category": ("squad-category", "value"),
    "procedure": ("squad-procedure", "value"),
    "overlays": (SQUAD_OVERLAYS, "value"),
}
filters.sync("squad", URL_FIELDS)


def layout(code: str | None = None, **query: Any) -> html.Div:
    """The squad page for ``code`` (e.g. ZD01); the filters come from the URL's query string when it has them."""
    scope = request_scope("squad")
    wanted = filters.from_query(query, lists=("category", "procedure", "overlays"))
    window = wanted.get("window", filters.DEFAULT_WINDOW)
    overlays = [o for o in wanted.get("overlays", DEFAULT_OVERLAYS) if o in OVERLAYS]
    try:
        squads = data.read(directory.squads, scope)
        categories = data.read(directory.categories, scope)
        end = data.read(directory.default_window_end, scope)
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    row = squads[squads["code"] == code]
    if row.empty:
        return html.Div(
            [html.H2(f"未找到中队“{code}”"), dcc.Link("返回首页", href="/")],
            className="page-error",
        )
    squad = row.iloc[0]
    bounds = tuple(float(squad[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
    center, zoom = view_for_bounds(bounds, width_px=1150, height_px=620)
    style = basemap.map_style()
    end_text = end.isoformat()
    try:
        traces, legend, notes, ranked, response, summary, hours = render(
            code, end_text, window, wanted.get("category"), wanted.get("procedure"), overlays, []
        )
    except data.DataUnavailable as exc:
        return html.Div(str(exc), className="page-error")
    figure = map_figure(traces, style=style, center=center, zoom=zoom, uirevision=f"squad-{code}")
    return html.Div(
        [
            dcc.Store(id=SQUAD_CODE, data=code),
            dcc.Store(id=SQUAD_END, data=end_text),
            dcc.Store(id=SQUAD_DRILL),
            dcc.Store(id=SQUAD_HIDDEN, data=[]),
            *live.controls("squad"),
            dcc.Download(id=SQUAD_DOWNLOAD),
            filters.url_store("squad"),
            html.Div(
                [
                    html.H1(f"{squad['name']} · 中队长视图"),
                    dcc.Link("巡查计划", href=f"/plan/{code}", className="button"),
                    html.Div(summary, id=SQUAD_SUMMARY, className="summary-line"),
                    components.data_stamp(),
                ],
                className="page-head",
            ),
            html.Div(
                [
                    filters.controls("squad", categories, window, wanted.get("category"), wanted.get("procedure")),
                    html.Label(
                        [
                            "地图图层",
                            dcc.Checklist(
                                id=SQUAD_OVERLAYS,
                                options=[{"label": v, "value": k} for k, v in OVERLAYS.items()],
                                value=overlays,
                                inline=True,
                            ),
                        ],
                        className="overlay-picker",
                    ),
                ],
                className="toolbar",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            dcc.Graph(
                                id=SQUAD_MAP,
                                figure=figure,
                                config={"scrollZoom": True, "displaylogo": False},
                                style={"height": "62vh"},
                            ),
                            html.Div(id=SQUAD_FOCUS, className="summary-line"),
                            html.Div(legend, id=SQUAD_LEGEND, className="legend"),
                            html.Div(notes, id=SQUAD_NOTES),
                            *warnings_panel.squad_section(code),
                        ],
                        className="col-map",
                    ),
                    html.Div(
                        [
                            html.H3("案件多、巡查少的路段（点击查看案件）"),
                            components.row_grid(SQUAD_RANKED, RANKED_COLUMNS, ranked, empty="暂无数据", height="30vh"),
                            html.Button("导出重点路段（Excel）", id=SQUAD_EXPORT_RANKED, className="button"),
                            html.H3("办结用时占时限比例"),
                            dcc.Graph(
                                id=SQUAD_RESPONSE,
                                figure=response,
                                config={"displayModeBar": False},
                                style={"height": "26vh"},
                            ),
                        ],
                        className="col-side",
                    ),
                ],
                className="two-cols",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3("全中队案件时段（周几 × 几点）"),
                            dcc.Graph(id=SQUAD_WHEN, figure=hours, config={"displayModeBar": False}, className="when"),
                        ]
                    ),
                    html.Div(
                        [
                            html.H3(WHEN_SEGMENT_PROMPT, id=SQUAD_WHEN_SEGMENT_TITLE),
                            dcc.Graph(
                                id=SQUAD_WHEN_SEGMENT,
                                figure=charts.when_heatmap(None, empty=NO_SEGMENT),
                                config={"displayModeBar": False},
                                className="when",
                            ),
                        ]
                    ),
                ],
                className="when-row",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3("点击地图上的网格、路段或案件，或上方的路段，查看案件", id=SQUAD_CASES_TITLE),
                            html.Button("导出案件列表（Excel）", id=SQUAD_EXPORT_CASES, className="button"),
                        ],
                        className="grid-head",
                    ),
                    components.case_grid(SQUAD_CASES),
                ]
            ),
        ],
        className="page squad-page",
    )


def _params(code: str, end: str | None, window: str | None, categories, procedures, **extra: Any) -> LayerParams:
    return filters.params(
        window=window,
        end=end,
        scope=request_scope("squad"),
        squads=(code,),
        categories=categories,
        procedures=procedures,
        **extra,
    )


@callback(
    Output(SQUAD_MAP, "figure"),
    Output(SQUAD_LEGEND, "children"),
    Output(SQUAD_NOTES, "children"),
    Output(SQUAD_RANKED, "rowData"),
    Output(SQUAD_RESPONSE, "figure"),
    Output(SQUAD_SUMMARY, "children"),
    Output(SQUAD_WHEN, "figure"),
    Input("squad-window", "value"),
    Input("squad-category", "value"),
    Input("squad-procedure", "value"),
    Input(SQUAD_OVERLAYS, "value"),
    State(SQUAD_CODE, "data"),
    State(SQUAD_END, "data"),
    State(SQUAD_HIDDEN, "data"),
    State(SQUAD_DRILL, "data"),
    prevent_initial_call=True,  # the layout carries the first view
)
def update(window, categories, procedures, overlays, code, end, hidden, key) -> tuple:
    """Re-render the squad's layers for the filters; only the map's data is sent (the view stays).

    The segment in focus (if any) stays highlighted, with its cases in the new filters.
    """
    try:
        traces, *rest = render(code, end, window, categories, procedures, overlays, hidden)
        focus = _focus(code, end, window, categories, procedures, key)
    except data.DataUnavailable as exc:
        return no_update, no_update, components.notes([f"⚠ {exc}"]), no_update, no_update, no_update, no_update
    if focus is not None:  # drawn under the live traces, which stay last (dashboard.live patches them by index)
        live_at = len(traces) - len(TRACE_NAMES)
        traces = [*traces[:live_at], *focus_traces(focus), *traces[live_at:]]
    patch = Patch()
    patch["data"] = [t.to_plotly_json() for t in traces]
    return patch, *rest


def render(code, end, window, categories, procedures, overlays, hidden) -> tuple:
    """Everything the filters drive: map traces, legend, notes, ranked segments, response figure, summary,
    and when the cases came in (weekday × hour); legend groups in ``hidden`` stay switched off.

    Used by the layout (so the first view needs no extra round trip) and by :func:`update`.

    Raises
    ------
    data.DataUnavailable
        When the database cannot be read.
    """
    params = _params(code, end, window, categories, procedures)
    wanted = ["jurisdictions", "stations", *[o for o in overlays or [] if o in OVERLAYS]]
    if "underpatrolled" not in wanted:
        wanted.append("underpatrolled")  # the ranked list needs it even when it is not drawn
    results, notes = data.layers(wanted, params)
    count = data.read(case_records.case_count, params)
    used = data.read(time_used.time_used, params)
    calendar = data.read(time_used.window_calendar_note, params)
    hours = data.read(when.hour_weekday, params)
    if calendar:  # due times counted in a year whose holidays are not in the region config
        notes.append(calendar)
    drawn = {k: v for k, v in results.items() if k in {"jurisdictions", "stations", *(overlays or [])}}
    ranked = _ranked_rows(results.get("underpatrolled"))
    start, stop = params.start, params.end
    summary = f"{start:%Y-%m-%d} 至 {stop:%Y-%m-%d} · 案件 {count} 件"
    if "patrol_coverage" in results:
        share = results["patrol_coverage"].summary.get("coverage_share")
        if share is not None:
            summary += f" · {SUMMARY_LABELS['coverage_share']} {fmt.percent(share, 0)}"
    return (
        hide_groups(layer_traces(drawn, DRAW_ORDER), hidden) + live.traces(params.scope, (code,), names=True),
        components.legend(drawn, DRAW_ORDER, toggle=SQUAD_LEGEND_ITEM, hidden=hidden),
        components.notes(notes),
        ranked,
        _response_figure(used),
        summary,
        charts.when_heatmap(hours),
    )


# A click on a legend entry hides or shows its traces in the browser (no round trip): the entry's
# group (dashboard.mapview.legend_group) is toggled in the SQUAD_HIDDEN store, which :func:`update`
# reads so a re-render keeps it switched off.
clientside_callback(
    """function(clicks, hidden, figure, ids) {
        const trig = dash_clientside.callback_context.triggered;
        if (!trig.length || !trig[0].value || !figure) { return dash_clientside.no_update; }
        const group = JSON.parse(trig[0].prop_id.slice(0, trig[0].prop_id.lastIndexOf('.'))).group;
        const off = new Set(hidden || []);
        if (off.has(group)) { off.delete(group); } else { off.add(group); }
        const data = figure.data.map(t => Object.assign({}, t, {visible: !off.has(t.legendgroup)}));
        const classes = ids.map(id => 'legend-item legend-toggle' + (off.has(id.group) ? ' legend-off' : ''));
        return [Array.from(off), Object.assign({}, figure, {data: data}), classes];
    }""",
    Output(SQUAD_HIDDEN, "data"),
    Output(SQUAD_MAP, "figure", allow_duplicate=True),
    Output({"type": SQUAD_LEGEND_ITEM, "group": ALL, "label": ALL}, "className"),
    Input({"type": SQUAD_LEGEND_ITEM, "group": ALL, "label": ALL}, "n_clicks"),
    State(SQUAD_HIDDEN, "data"),
    State(SQUAD_MAP, "figure"),
    State({"type": SQUAD_LEGEND_ITEM, "group": ALL, "label": ALL}, "id"),
    prevent_initial_call=True,
)


def _ranked_rows(result) -> list[dict[str, Any]]:
    if result is None:
        return []
    rows = pd.DataFrame(result.summary.get("ranked_segments", []))
    if rows.empty:
        return []
    rows["name"] = rows["name"].fillna("未命名路段")
    rows["cases_per_km"] = rows["cases_per_km"].round(1)
    rows["dwell_min"] = rows["dwell_min"].fillna(0).round(0)
    rows["label"] = rows["label"].fillna(rows["name"])
    rows["row_id"] = rows["segment_id"].astype(int).astype(str)  # AG Grid row ids are strings
    return rows.astype(object).where(rows.notna(), None).to_dict("records")


def _response_figure(used: time_used.TimeUsed) -> go.Figure:
    """Cases by time used against the time limit (100% = the limit): closed ones stacked per procedure
    type, open ones (time used so far) as a hatched grey bar on top; the legend always shows."""
    figure = go.Figure()
    for kind, counts in used.counts.items():
        figure.add_bar(x=list(used.labels), y=counts, name=f"{kind}（已办结）")
    if any(used.open_counts):
        figure.add_bar(
            x=list(used.labels),
            y=used.open_counts,
            name=OPEN_TRACE,
            marker={"color": "rgba(140,150,160,0.55)", "pattern": {"shape": "/", "fgcolor": "#5b6770"}},
        )
    if used.late_share is not None:
        edge = used.limit_bin - 0.5  # between the last bin within the limit and the first past it
        figure.add_vline(x=edge, line={"color": "#c0392b", "dash": "dash"})
        figure.add_annotation(
            x=edge,
            y=1,
            yref="paper",
            text=f"时限 · 超期 {used.late_share * 100:.0f}%",
            showarrow=False,
            xanchor="left",
            font={"color": "#c0392b"},
        )
    figure.update_layout(
        barmode="stack",
        margin={"l": 40, "r": 10, "t": 10, "b": 30},
        showlegend=True,  # also with one procedure type (plotly hides a single trace's legend by default)
        legend={"orientation": "h", "y": -0.35},
        xaxis={"tickangle": -45, "tickfont": {"size": 10}},
        yaxis_title="案件数",
        font={"family": "WenQuanYi Micro Hei, sans-serif", "size": 12},
        paper_bgcolor="rgba(0,0,0,0)",
    )
    return figure


def drill_key(layer: str | None, value: Any) -> dict[str, Any] | None:
    """What a click on ``layer`` with ``value`` selects: an H3 cell, a segment, or one case."""
    if value is None or layer is None:
        return None
    if layer in {"hotspots", "cases"} and isinstance(value, str) and not value.isdigit():
        return {"h3_cell": value}
    if layer == "cases":
        return {"case_ids": [int(value)]}
    if layer in SEGMENT_LAYERS or (layer == "hotspots" and _is_id(value)):  # segment hotspots: a segment id
        return {"segment_id": int(value)}
    return None


def _is_id(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def drill_label(key: dict[str, Any]) -> str:
    """Chinese title of the drill-down list."""
    if "h3_cell" in key:
        return "所选网格内的案件"
    if "segment_id" in key:
        return "所选路段上的案件"
    return "所选案件"


live.register_squad(SQUAD_MAP, SQUAD_CODE, warnings_panel.SQUAD_GRID, warnings_panel.SQUAD_HISTORY)


@callback(
    Output(SQUAD_DRILL, "data"),
    Input(SQUAD_MAP, "clickData"),
    Input(SQUAD_RANKED, "selectedRows"),
    State(SQUAD_MAP, "figure"),
    prevent_initial_call=True,
)
def choose(click, selected, figure) -> Any:
    """Turn a map click or a ranked-segment selection into a drill-down key."""
    if ctx.triggered_id == SQUAD_RANKED:
        return {"segment_id": int(selected[0]["segment_id"])} if selected else no_update
    key = drill_key(*clicked(click, figure))
    return key if key is not None else no_update


def _focus(code, end, window, categories, procedures, key) -> SegmentFocus | None:
    """The segment a drill-down key selects, with its cases in the filters (None: no segment selected)."""
    if not key or "segment_id" not in key:
        return None
    params = _params(code, end, window, categories, procedures)
    return data.read(segment_focus, params, int(key["segment_id"]))


@callback(
    Output(SQUAD_FOCUS, "children"),
    Output(SQUAD_MAP, "figure", allow_duplicate=True),
    Input(SQUAD_DRILL, "data"),
    State(SQUAD_MAP, "figure"),
    State("squad-window", "value"),
    State("squad-category", "value"),
    State("squad-procedure", "value"),
    State(SQUAD_CODE, "data"),
    State(SQUAD_END, "data"),
    prevent_initial_call=True,
)
def focus(key, figure, window, categories, procedures, code, end) -> tuple:
    """Highlight the selected segment and its cases on the map and zoom to it; a caption names it."""
    try:
        found = _focus(code, end, window, categories, procedures, key)
    except data.DataUnavailable as exc:
        return f"⚠ {exc}", no_update
    patch = Patch()
    shown = (figure or {}).get("data", [])
    for index in reversed([i for i, t in enumerate(shown) if (t.get("meta") or {}).get("layer") == FOCUS_LAYER]):
        del patch["data"][index]
    if found is None:
        return "", patch
    for trace in focus_traces(found):  # under the live traces, which stay last (dashboard.live)
        patch["data"].insert(-len(TRACE_NAMES), trace.to_plotly_json())
    center, zoom = focus_view(found)
    patch["layout"]["map"]["center"] = center
    patch["layout"]["map"]["zoom"] = zoom
    chief = f" · 街路长：{found.chief}" if found.chief else ""
    return f"所选路段：{found.label}{chief} · 地图上标出案件 {len(found.cases)} 件", patch


# What a drill-down reads: the selection (SQUAD_DRILL), the filters, the squad and the window's end.
DRILL_INPUTS = (
    Input(SQUAD_DRILL, "data"),
    Input("squad-window", "value"),
    Input("squad-category", "value"),
    Input("squad-procedure", "value"),
    State(SQUAD_CODE, "data"),
    State(SQUAD_END, "data"),
)


@callback(
    Output(SQUAD_CASES, "rowData"),
    Output(SQUAD_CASES_TITLE, "children"),
    *DRILL_INPUTS,
    prevent_initial_call=True,
)
def drill(key, window, categories, procedures, code, end) -> tuple:
    """The cases of the selected cell / segment / case within the filters."""
    if not key:
        return no_update, no_update
    params = _params(code, end, window, categories, procedures)
    try:
        rows = data.read(case_records.case_rows, params, limit=1000, **key)
    except data.DataUnavailable as exc:
        return no_update, f"⚠ {exc}"
    return components.grid_rows(rows), f"{drill_label(key)}：{len(rows)} 件"


@callback(
    Output(SQUAD_WHEN_SEGMENT, "figure"),
    Output(SQUAD_WHEN_SEGMENT_TITLE, "children"),
    *DRILL_INPUTS,
    prevent_initial_call=True,
)
def segment_hours(key, window, categories, procedures, code, end) -> tuple:
    """When the cases of the segment selected for the drill-down came in (weekday × hour)."""
    if not key:
        return no_update, no_update
    if "segment_id" not in key:  # a cell or a case was chosen: no segment any more
        return charts.when_heatmap(None, empty=NO_SEGMENT), WHEN_SEGMENT_PROMPT
    params = _params(code, end, window, categories, procedures)
    try:
        hours = data.read(when.hour_weekday, params, segment_id=int(key["segment_id"]))
    except data.DataUnavailable as exc:
        return no_update, f"⚠ {exc}"
    total = int(hours.to_numpy().sum())
    return charts.when_heatmap(hours, empty="所选路段在此期间没有案件"), f"所选路段的案件时段（{total} 件）"


@callback(
    Output(SQUAD_DOWNLOAD, "data"),
    Input(SQUAD_EXPORT_CASES, "n_clicks"),
    Input(SQUAD_EXPORT_RANKED, "n_clicks"),
    State(SQUAD_DRILL, "data"),
    State("squad-window", "value"),
    State("squad-category", "value"),
    State("squad-procedure", "value"),
    State(SQUAD_CODE, "data"),
    State(SQUAD_END, "data"),
    prevent_initial_call=True,
)
def export(_cases, _ranked, key, window, categories, procedures, code, end) -> Any:
    """Excel of the drilled-down cases (or all cases in the filters) or of the ranked segments, read afresh."""
    params = _params(code, end, window, categories, procedures)
    stamp = f"{params.start:%Y%m%d}-{params.end:%Y%m%d}"
    try:
        if ctx.triggered_id == SQUAD_EXPORT_RANKED:
            result = data.layer("underpatrolled", params)
            ranked = pd.DataFrame(_ranked_rows(result))
            headers = {c["field"]: c["headerName"] for c in RANKED_COLUMNS}
            return components.send_excel({"重点路段": ranked}, headers, f"{code}_重点路段_{stamp}.xlsx")
        rows = data.read(case_records.case_rows, params, limit=None, **(key or {}))
    except data.DataUnavailable:
        return no_update
    return components.send_excel({"案件": rows}, case_records.EXPORT_HEADERS, f"{code}_案件_{stamp}.xlsx")
