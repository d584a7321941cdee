"""指挥中心大屏: the county at a glance for an unattended wall screen (dark, large type, no personal data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import Input, Output, Patch, State, callback, clientside_callback, ctx, dcc, html, no_update

from dashboard import basemap, data, fmt, live
from dashboard.access.scope import WALL, request_scope
from dashboard.filters import procedure_types
from dashboard.mapview import layer_traces, map_figure, view_for_bounds
from geo.region import get_region
from geo.settings import get_settings
from layers.base import LayerParams
from layers.queries import directory
from layers.queries.kpis import wall_figures

dash.register_page(__name__, path="/wall", name="指挥中心大屏", title="指挥中心大屏")

WALL_MAP = "wall-map"
WALL_KPIS = "wall-kpis"
WALL_RANKING = "wall-ranking"
WALL_ROTATION = "wall-rotation"
WALL_STAMP = "wall-stamp"
WALL_WARNING = "wall-warning"
WALL_REFRESH = "wall-refresh"
WALL_ROTATE = "wall-rotate"
WALL_STORE = "wall-store"
WALL_SCALE = "wall-scale"
WALL_SCALE_SOURCE = "wall-scale-source"
WALL_LIVE_KPIS = "wall-live-kpis"
WALL_WARNINGS = "wall-warnings"
DESIGN_HEIGHT = 1080  # the layout is designed for 1080 lines; 4K screens scale by 2

MAP_LAYERS = ["response_times", "hotspots"]
HOTSPOT_DAYS = 30
HOTSPOT_RESOLUTION = 7  # H3 cells of about 5 km², visible at county zoom on a wall
RESPONSE_METRIC = "arrive_median"  # squads coloured by the median hours from received to arrived


def layout(refresh: str | None = None, rotate: str | None = None, **_query: Any) -> html.Div:
    """The wall; ``?refresh=S&rotate=S`` override the refresh and rotation periods (seconds)."""
    region = get_region()
    refresh_s = _seconds(refresh, get_settings().wall_refresh_s)
    rotate_s = _seconds(rotate, 20)
    center, zoom = _view(1.0)
    try:
        traces, kpis, ranking, store, stamp, warning, warning_class = snapshot()
        live_kpis, warnings = live.wall_extras(request_scope(WALL))
    except data.DataUnavailable as exc:  # the refresh keeps trying
        traces, kpis, ranking, store, stamp, live_kpis, warnings = [], [], [], None, "", [], []
        warning, warning_class = f"⚠ {exc}，恢复后自动更新", "wall-warning"
    style = basemap.map_style(dark=True)
    figure = map_figure(traces, style=style, center=center, zoom=zoom, uirevision="wall", dark=True)
    return html.Div(
        [
            html.Div(
                [
                    html.H1(f"{region.bureau} · 指挥中心"),
                    html.Div(stamp, id=WALL_STAMP, className="wall-stamp"),
                ],
                className="wall-head",
            ),
            html.Div(warning, id=WALL_WARNING, className=warning_class),
            html.Div(
                [
                    html.Section(
                        [html.Div(live_kpis, id=WALL_LIVE_KPIS, className="wall-live"), html.Div(kpis, id=WALL_KPIS)],
                        className="wall-kpis",
                    ),
                    html.Section(
                        dcc.Graph(
                            id=WALL_MAP,
                            figure=figure,
                            config={"displayModeBar": False, "scrollZoom": True},
                            className="wall-map",
                        ),
                        className="wall-map-box",
                    ),
                    html.Section(
                        [
                            html.Div(warnings, id=WALL_WARNINGS),
                            html.Div(id=WALL_ROTATION, className="wall-rotation"),
                            html.Div(ranking, id=WALL_RANKING),
                        ],
                        className="wall-side",
                    ),
                ],
                className="wall-grid",
            ),
            dcc.Interval(id=WALL_REFRESH, interval=refresh_s * 1000),
            dcc.Interval(id=WALL_ROTATE, interval=rotate_s * 1000),
            dcc.Store(id=WALL_STORE, data=store),
            dcc.Store(id=WALL_SCALE_SOURCE, data=1),
            dcc.Store(id=WALL_SCALE),
            *live.controls("wall"),
        ],
        className="wall",
    )


def _seconds(value: str | None, default: int) -> int:
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        return default


@callback(
    Output(WALL_MAP, "figure"),
    Output(WALL_KPIS, "children"),
    Output(WALL_RANKING, "children"),
    Output(WALL_STORE, "data"),
    Output(WALL_STAMP, "children"),
    Output(WALL_WARNING, "children"),
    Output(WALL_WARNING, "className"),
    Input(WALL_REFRESH, "n_intervals"),
    Input(WALL_SCALE, "data"),
    State(WALL_STORE, "data"),
    prevent_initial_call=True,  # the layout carries the first view
)
def refresh(_ticks: int | None, scale: float | None, last_good: dict | None) -> tuple:
    """Re-read the figures and patch only the map's data, so the view and the basemap stay put.

    When the screen's scale arrives (once, at load) the county is fitted to the screen as well.
    """
    scale = float(scale or 1.0)
    try:
        traces, *rest = snapshot(scale)
    except data.DataUnavailable as exc:
        since = (last_good or {}).get("at", "—")
        warning = f"⚠ {exc}，正在显示 {since} 的数据，恢复后自动更新"
        return no_update, no_update, no_update, no_update, no_update, warning, "wall-warning"
    patch = Patch()
    patch["data"] = [trace.to_plotly_json() for trace in traces]
    if ctx.triggered_id == WALL_SCALE and scale != 1.0:
        center, zoom = _view(scale)
        patch["layout"]["map"]["zoom"] = zoom
        patch["layout"]["map"]["center"] = center
    return patch, *rest


def snapshot(scale: float = 1.0) -> tuple:
    """Everything the wall shows: map traces, KPI cards, squad ranking, rotation store, stamp, warning.

    Raises
    ------
    data.DataUnavailable
        When the database cannot be read (the page then keeps what it shows).
    """
    now = fmt.now_local()
    scope = request_scope(WALL)
    kpis = data.read(wall_figures, LayerParams(scope=scope), cache=True)
    squads = data.read(directory.squads, scope, cache=True)
    reference = kpis["reference_day"]
    results, notes = data.layers(
        ["response_times"],
        LayerParams(start=dt.date(reference.year, 1, 1), end=reference, metric=RESPONSE_METRIC, scope=scope),
    )
    hot, hot_notes = data.layers(
        ["hotspots"],
        LayerParams(
            start=reference - dt.timedelta(days=HOTSPOT_DAYS - 1),
            end=reference,
            resolution=HOTSPOT_RESOLUTION,
            scope=scope,
        ),
    )
    results.update(hot)
    notes += hot_notes
    traces = [_wall_style(trace, scale) for trace in layer_traces(results, MAP_LAYERS)] + live.traces(scope)
    names = dict(zip(squads["code"], squads["name"], strict=True))
    per_squad = [{**row, "name": names.get(row["squad_code"], row["squad_code"])} for row in kpis["per_squad"]]
    per_squad = [row for row in per_squad if row["squad_code"] in names]
    stamp = f"数据截至 {fmt.local_time(kpis['data_as_of'])} · 刷新于 {now:%H:%M:%S}"
    warnings = [n for n in dict.fromkeys(notes) if "尚未提供" in n]  # method notes are for desk pages
    calendar = results["response_times"].summary.get("calendar_note") if "response_times" in results else None
    if calendar:  # due times counted in a year whose holidays are not in the region config
        warnings.append(calendar)
    stale = _stale(kpis["last_load_at"], now)
    if stale:
        warnings.insert(0, stale)
    store = {"at": now.strftime("%H:%M"), "squads": per_squad}
    return (
        traces,
        _kpi_cards(kpis),
        _ranking(per_squad),
        store,
        stamp,
        " · ".join(warnings),
        "wall-warning" + ("" if stale else " note") + ("" if warnings else " hidden"),
    )


def _view(scale: float) -> tuple[dict[str, float], float]:
    """Centre and zoom fitting the county in the wall's map on a screen ``scale`` × 1080 lines high."""
    return view_for_bounds(get_region().outline.bounds, width_px=int(1100 * scale), height_px=int(900 * scale))


clientside_callback(
    f"function(_) {{ return Math.max(1, Math.round(window.innerHeight / {DESIGN_HEIGHT} * 100) / 100); }}",
    Output(WALL_SCALE, "data"),
    Input(WALL_SCALE_SOURCE, "data"),
)


def _wall_style(trace: Any, scale: float = 1.0) -> Any:
    """Large, compact colour bars inside the map for reading from across the room."""
    font = round(15 * scale)
    if getattr(trace, "colorbar", None) is not None and getattr(trace, "showscale", None) is not False:
        trace.colorbar = {
            **trace.colorbar.to_plotly_json(),
            "len": 0.35,
            "thickness": round(16 * scale),
            "x": 0.99,  # bottom right: the county runs from south-west to north-east, that corner is empty
            "xanchor": "right",
            "y": 0.03,
            "yanchor": "bottom",
            "bgcolor": "rgba(5,11,21,0.75)",
            "tickfont": {"size": font, "color": "#e8eef5"},
            "title": {**trace.colorbar.title.to_plotly_json(), "font": {"size": font, "color": "#e8eef5"}},
        }
    return trace


def _stale(last_load: dt.datetime | None, now: dt.datetime) -> str | None:
    limit = get_settings().wall_stale_hours
    if last_load is None:
        return "⚠ 尚无成功导入的数据"
    age_h = (now - last_load).total_seconds() / 3600
    if age_h > limit:
        return f"⚠ 数据已 {age_h:.0f} 小时未更新（最近导入 {fmt.local_time(last_load)}）"
    return None


def _card(title: str, value: str, detail: str, extra: str = "") -> html.Div:
    return html.Div(
        [
            html.Div(title, className="kpi-title"),
            html.Div(value, className="kpi-value"),
            html.Div(detail, className="kpi-detail"),
        ],
        className=f"kpi {extra}".strip(),
    )


def _kpi_cards(kpis: dict[str, Any]) -> list[html.Div]:
    year = kpis["reference_day"].year
    this, last = kpis["cases_this_year"], kpis["cases_last_year"]
    cards = [
        _card(
            f"{year}年案件总数",
            fmt.number(this),
            f"去年同期 {fmt.number(last)} · {fmt.change(this, last)}",
            "kpi-total",
        )
    ]
    for kind in procedure_types():  # the region's, as in the filters
        figures = kpis["by_type"].get(kind, {"this": 0, "last": 0})
        cards.append(
            _card(
                kind,
                fmt.number(figures["this"]),
                f"同期 {fmt.number(figures['last'])} · {fmt.change(figures['this'], figures['last'])}",
            )
        )
    cards.append(
        _card(
            "投诉按期办结率",
            fmt.percent(kpis["complaints_on_time_share"]),
            f"投诉 {fmt.number(kpis['complaints'])} 件 · 到场中位 {fmt.minutes(kpis['complaints_median_arrive_min'])}",
        )
    )
    cards.append(
        _card(
            "人均办案",
            fmt.number(kpis["cases_per_officer"], 1),
            f"{fmt.number(kpis['officers'])} 名执法队员 · 未结 {fmt.number(kpis['open_cases'])} 件",
        )
    )
    return cards


def _response_class(minutes: float | None) -> str:
    if minutes is None or minutes != minutes:
        return "resp-none"
    return "resp-good" if minutes <= 30 else "resp-mid" if minutes <= 60 else "resp-bad"


def _ranking(per_squad: list[dict[str, Any]]) -> html.Div:
    rows = sorted(per_squad, key=lambda r: (r["median_arrive_min"] is None, r["median_arrive_min"] or 0))
    return html.Div(
        [html.H2("各中队到场时间（中位）")]
        + [
            html.Div(
                [
                    html.Span(row["name"], className="rank-name"),
                    html.Span(fmt.minutes(row["median_arrive_min"]), className="rank-value"),
                ],
                className=f"rank-row {_response_class(row['median_arrive_min'])}",
            )
            for row in rows
        ],
        className="wall-ranking",
    )


live.register_wall(WALL_MAP, WALL_LIVE_KPIS, WALL_WARNINGS)


@callback(Output(WALL_ROTATION, "children"), Input(WALL_ROTATE, "n_intervals"), Input(WALL_STORE, "data"))
def rotate(ticks: int | None, store: dict | None) -> Any:
    """Show one squad at a time, moving on every rotation tick (the map itself does not move)."""
    squads = (store or {}).get("squads") or []
    if not squads:
        return html.Div("等待数据…", className="rotation-empty")
    ordered = sorted(squads, key=lambda r: r["squad_code"])
    row = ordered[(ticks or 0) % len(ordered)]
    due = row.get("due") or 0
    on_time = (row.get("due_on_time") or 0) / due if due else None
    return html.Div(
        [
            html.Div("中队轮播", className="kpi-title"),
            html.Div(row["name"], className="rotation-name"),
            html.Div(
                [
                    _card("今年案件", fmt.number(row["cases"]), ""),
                    _card("未结案件", fmt.number(row["open"]), ""),
                    _card("到场中位", fmt.minutes(row["median_arrive_min"]), ""),
                    _card("按期办结率", fmt.percent(on_time), ""),
                ],
                className="rotation-cards",
            ),
        ]
    )
