"""指挥中心大屏: the county at a glance for an unattended wall screen (dark, large type, no personal data)."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import dash
import plotly.graph_objects as go
from dash import Input, Output, Patch, State, callback, clientside_callback, ctx, dcc, html, no_update

from dashboard import basemap, data, fmt, live
from dashboard.access.scope import WALL, request_scope
from dashboard.filters import procedure_types
from dashboard.mapview import layer_traces, map_figure, measure_js, measured_size, view_for_bounds
from geo.region import get_region
from geo.settings import get_settings
from layers.base import LayerParams, LayerResult, Scope
from layers.queries import directory
from layers.queries.kpis import wall_figures
from layers.response_times import arrival_band, arrival_colour
from layers.stats.response_time import ARRIVAL_LABEL, ARRIVAL_METRIC

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
WALL_TITLE = "wall-title"
WALL_LEGEND = "wall-legend"
WALL_FOCUS = "wall-focus"
WALL_FOCUS_DRAWN = "wall-focus-drawn"
DESIGN_HEIGHT = 1080  # the layout is designed for 1080 lines; 4K screens scale by 2
NARROW_MAX_PX = 900  # at most this wide the wall is one column (the @media rule of wall.css)
NARROW_TEXT_SCALE = 0.6  # the map's names there: a phone is held at arm's length, not read from 5 m

MAP_LAYERS = ["response_times", "hotspots"]
HOTSPOT_DAYS = 30
HOTSPOT_RESOLUTION = 7  # H3 cells of about 5 km², visible at county zoom on a wall
# Squads are coloured, listed and rotated by one figure: the median minutes 受理→到场 (see ARRIVAL_METRIC).
RESPONSE_METRIC = ARRIVAL_METRIC
FOCUS_COLOUR = "#00e5ff"  # the outline of the squad the rotation shows (no data colour is cyan)
FONT_PX = 24  # the smallest text the wall draws on a 1080-line screen (readable from across the room)
COLORBAR_PX = 190  # the width of the colour bar with its title in two lines, at FONT_PX; the county stays left of it


def layout(refresh: str | None = None, rotate: str | None = None, **_query: Any) -> html.Div:
    """The wall; ``?refresh=S&rotate=S`` override the refresh and rotation periods (seconds)."""
    region = get_region()
    refresh_s = _seconds(refresh, get_settings().wall_refresh_s)
    rotate_s = _seconds(rotate, 20)
    center, zoom = _view(Screen())  # until the browser has measured
    try:
        traces, kpis, ranking, store, stamp, warning, warning_class, legend = snapshot()
        title = wall_title(request_scope(WALL))
        live_kpis, warnings = live.wall_extras(request_scope(WALL))
    except data.DataUnavailable as exc:  # the refresh keeps trying
        traces, kpis, ranking, store, stamp, legend, live_kpis, warnings = [], [], [], None, "", [], [], []
        warning, warning_class = f"⚠ {exc}，恢复后自动更新", "wall-warning"
        title = f"{region.bureau} · 指挥中心"
    style = basemap.map_style(dark=True)
    figure = map_figure(traces, style=style, center=center, zoom=zoom, uirevision="wall", dark=True)
    return html.Div(
        [
            html.Div(
                [
                    html.H1(title, id=WALL_TITLE),
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
                        [
                            dcc.Graph(
                                id=WALL_MAP,
                                figure=figure,
                                # no wheel zoom on the kiosk: an accidental zoom would never reset
                                config={"displayModeBar": False, "scrollZoom": False},
                                className="wall-map",
                            ),
                            html.Div(legend, id=WALL_LEGEND, className="wall-legend"),
                        ],
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
            dcc.Store(id=WALL_FOCUS),
            dcc.Store(id=WALL_FOCUS_DRAWN),
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
    Output(WALL_LEGEND, "children"),
    Input(WALL_REFRESH, "n_intervals"),
    Input(WALL_SCALE, "data"),
    State(WALL_FOCUS, "data"),
    State(WALL_STORE, "data"),
    prevent_initial_call=True,  # the layout carries the first view
)
def refresh(_ticks: int | None, measured: Any, focus: str | None, last_good: dict | None) -> tuple:
    """Re-read the figures and patch only the map's data, so the view and the basemap stay put.

    When the screen's measure arrives (once, at load) the county is fitted to the map as drawn and
    the map's names are scaled with the screen. The squad the rotation shows keeps its outline (see
    :func:`rotate`).
    """
    screen = Screen.from_store(measured)
    try:
        traces, *rest = snapshot(screen, focus)
    except data.DataUnavailable as exc:
        since = (last_good or {}).get("at", "—")
        warning = f"⚠ {exc}，正在显示 {since} 的数据，恢复后自动更新"
        return no_update, no_update, no_update, no_update, no_update, warning, "wall-warning", no_update
    patch = Patch()
    patch["data"] = [trace.to_plotly_json() for trace in traces]
    if ctx.triggered_id == WALL_SCALE:
        center, zoom = _view(screen)
        patch["layout"]["map"]["zoom"] = zoom
        patch["layout"]["map"]["center"] = center
        if screen.text_scale != 1.0:
            patch["layout"]["map"]["style"] = basemap.map_style(dark=True, text_scale=screen.text_scale)
    return patch, *rest


def wall_title(scope: Scope) -> str:
    """Whose data the wall shows: the bureau's command centre, or the squads of the viewer's scope.

    A squad leader or street chief who opens ``/wall`` sees their squad's figures, so the title names
    the squad, e.g. ``白洋中队 · 执法态势``.
    """
    if scope.squads is None:
        return f"{get_region().bureau} · 指挥中心"
    names = data.read(directory.squads, scope, cache=True)["name"].tolist()
    return f"{'、'.join(names) or '无中队'} · 执法态势"


def focused(squads: list[dict[str, Any]], turns: int | None) -> dict[str, Any]:
    """The squad the rotation shows after ``turns`` ticks (squads in code order, one per tick)."""
    ordered = sorted(squads, key=lambda r: r["squad_code"])
    return ordered[(turns or 0) % len(ordered)]


def snapshot(screen: Screen | None = None, focus: str | None = None) -> tuple:
    """Everything the wall shows: map traces, KPI cards, squad ranking, rotation store, stamp, warning, legend.

    The squad list, the rotation and the map's colours all read :data:`ARRIVAL_METRIC` from the one
    response-times layer result, so a squad's minutes and colour agree everywhere on the wall.
    ``focus`` is the code of the squad the rotation shows, outlined on the map; ``screen`` sizes the
    map's text and places its colour bar (default: a 1080-line wall).

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
    screen = screen or Screen()
    drawn = layer_traces(results, MAP_LAYERS)
    keyed = [trace for trace in drawn if screen.keys_in_legend(trace)]  # before the styling hides their bars
    traces = [_wall_style(trace, screen) for trace in drawn]
    names = dict(zip(squads["code"], squads["name"], strict=True))
    minutes = _arrival_minutes(results.get("response_times"))
    counted = {row["squad_code"]: row for row in kpis["per_squad"]}
    per_squad = [
        {
            "cases": 0,
            "open": 0,
            "due": 0,
            "due_on_time": 0,
            **counted.get(code, {}),
            "squad_code": code,
            "name": name,
            ARRIVAL_METRIC: minutes.get(code),
        }
        for code, name in names.items()
    ]
    stamp = f"数据截至 {fmt.local_time(kpis['data_as_of'])} · 刷新于 {now:%H:%M:%S}"
    warnings = [n for n in dict.fromkeys(notes) if "尚未提供" in n]  # method notes are for desk pages
    calendar = results["response_times"].summary.get("calendar_note") if "response_times" in results else None
    if calendar:  # due times counted in a year whose holidays are not in the region config
        warnings.append(calendar)
    stale = _stale(kpis["last_load_at"], now)
    if stale:
        warnings.insert(0, stale)
    if focus not in names:  # the outline stays on the squad the rotation shows (the first at load)
        focus = focused(per_squad, 0)["squad_code"] if per_squad else None
    outline = _focus_trace(traces, focus, screen.text_scale)
    if outline is not None:
        traces.append(outline)
    traces += live.traces(scope)  # last: dashboard.live patches them by their index from the end
    for number, trace in enumerate(traces):  # the same uid on every refresh: plotly updates its map
        trace.uid = f"wall-{number}-{(trace.meta or {}).get('layer')}"  # layers in place, leaves none behind
    store = {"at": now.strftime("%H:%M"), "squads": per_squad}
    return (
        traces,
        _kpi_cards(kpis),
        _ranking(per_squad),
        store,
        stamp,
        " · ".join(warnings),
        "wall-warning" + ("" if stale else " note") + ("" if warnings else " hidden"),
        _legend(results.get("hotspots"), outline is not None, keyed),
    )


def _arrival_minutes(result: LayerResult | None) -> dict[str, float | None]:
    """Squad code → :data:`ARRIVAL_METRIC` minutes, exactly the values the map is coloured by."""
    if result is None or result.data is None or ARRIVAL_METRIC not in result.data:
        return {}
    values = result.data[ARRIVAL_METRIC].astype(float)
    return {code: (None if v != v else float(v)) for code, v in zip(result.data["squad_code"], values, strict=True)}


def _focus_trace(traces: list[Any], code: str | None, scale: float) -> go.Choroplethmap | None:
    """An outline of the squad the rotation shows, over the squads' colours (moved on every tick)."""
    squads = next((t for t in traces if (t.meta or {}).get("layer") == "response_times"), None)
    if squads is None or code is None:
        return None
    return go.Choroplethmap(
        geojson=squads.geojson,
        locations=[code],
        z=[0],
        colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
        showscale=False,
        marker={"line": {"width": round(6 * scale), "color": FOCUS_COLOUR}},
        hoverinfo="skip",
        meta={"layer": "focus"},
        below=basemap.LABELS_BELOW,
    )


def _legend(hotspots: LayerResult | None, focus: bool, coloured: list[Any]) -> list[html.Div]:
    """The map's own key: hotspot classes, the outline, and the colour scale of the ``coloured`` traces
    whose colour bar the map does not draw (a portrait map, see :meth:`Screen.keys_in_legend`)."""
    rows = [
        html.Div([html.Span(className="swatch", style={"background": item.color}), item.label], className="legend-row")
        for item in (hotspots.legend if hotspots is not None else [])
        if item.color.startswith("#")  # the not-significant class is not drawn on the wall
    ]
    if rows:
        rows.insert(0, html.Div(f"案件热点（近{HOTSPOT_DAYS}天）", className="legend-title"))
    if focus:
        rows.append(
            html.Div(
                [html.Span(className="swatch outline", style={"borderColor": FOCUS_COLOUR}), "轮播中的中队"],
                className="legend-row",
            )
        )
    for trace in coloured:
        rows += _colour_key(trace)
    return rows


def _colour_key(trace: Any) -> list[html.Div]:
    """A trace's colour bar as rows of the HTML legend: its title, the gradient, its tick labels."""
    stops = ", ".join(f"{colour} {position * 100:.0f}%" for position, colour in trace.colorscale)
    low, high = float(trace.zmin), float(trace.zmax)  # the wall's scales are pinned (ARRIVAL_SCALE)
    values = trace.colorbar.tickvals or (low, high)
    labels = trace.colorbar.ticktext or [f"{v:g}" for v in values]
    ticks = []
    for value, label in zip(values, labels, strict=True):
        at = (float(value) - low) / ((high - low) or 1.0) * 100  # shifted by as much: the ends stay inside
        ticks.append(html.Span(label, style={"left": f"{at:.0f}%", "transform": f"translateX(-{at:.0f}%)"}))
    return [
        html.Div(trace.colorbar.title.text, className="legend-title"),
        html.Div(className="legend-gradient", style={"background": f"linear-gradient(to right, {stops})"}),
        html.Div(ticks, className="legend-ticks"),
    ]


class Screen(NamedTuple):  # not a dataclass: dash loads the pages without a sys.modules entry
    """What the browser measured at load: how much to scale the text, and the map's size in pixels.

    The defaults are a 1080-line wall (the map about 1100 × 900 px), also used for anything the
    store holds that is not a measure.
    """

    text_scale: float = 1.0  # names, colour bars and outlines × this: 2 on a 2160-line wall, less on a phone
    map_width: int = 1100
    map_height: int = 900

    @classmethod
    def from_store(cls, value: Any) -> Screen:
        """The measure the clientside callback stored (``{"text", "width", "height"}``), within sane bounds."""
        size = measured_size(value)
        try:
            text_scale = min(max(float(value["text"]), NARROW_TEXT_SCALE), 4.0)
        except (KeyError, TypeError, ValueError):
            return cls()
        return cls(text_scale, *size) if size else cls()

    @property
    def portrait(self) -> bool:
        """A map taller than wide (a phone): no room beside the county for a colour bar."""
        return self.map_width < self.map_height

    def keys_in_legend(self, trace: Any) -> bool:
        """Whether ``trace``'s colour scale goes to the HTML legend instead of a colour bar on the map."""
        return self.portrait and _has_colour_bar(trace)


def _has_colour_bar(trace: Any) -> bool:
    """Whether plotly would draw a colour bar for ``trace``."""
    return getattr(trace, "colorbar", None) is not None and trace.showscale is not False


def _view(screen: Screen) -> tuple[dict[str, float], float]:
    """Centre and zoom fitting the county in the wall's map, left of the colour bar."""
    free = 0 if screen.portrait else round(COLORBAR_PX * screen.text_scale)
    return view_for_bounds(get_region().outline.bounds, screen.map_width, screen.map_height, free_right_px=free)


# The text scale follows the screen's lines (4K: 2); a phone or narrow window, where the wall is one
# column (wall.css), draws smaller names. The map's own box is measured, as its share of the screen
# depends on the layout.
_TEXT_SCALE_JS = (
    f"window.innerWidth <= {NARROW_MAX_PX} ? {NARROW_TEXT_SCALE} "
    f": Math.max(1, Math.round(window.innerHeight / {DESIGN_HEIGHT} * 100) / 100)"
)
clientside_callback(
    measure_js(".wall-map-box", extra=f"text: {_TEXT_SCALE_JS}"),
    Output(WALL_SCALE, "data"),
    Input(WALL_SCALE_SOURCE, "data"),
)


def _wall_style(trace: Any, screen: Screen) -> Any:
    """Large, compact colour bars inside the map, at the right in the strip :func:`_view` keeps clear
    of the county; a portrait map shows the scale in its HTML legend instead (:func:`_colour_key`)."""
    if not _has_colour_bar(trace):
        return trace
    if screen.portrait:  # its scale is in the legend (see snapshot)
        trace.showscale = False
        return trace
    title = trace.colorbar.title.text or ""
    font = round(FONT_PX * screen.text_scale)
    trace.colorbar = {
        **trace.colorbar.to_plotly_json(),
        "len": 0.4,
        "thickness": round(24 * screen.text_scale),
        "x": 0.99,
        "xanchor": "right",
        "y": 0.03,
        "yanchor": "bottom",
        "bgcolor": "rgba(5,11,21,0.75)",
        "tickfont": {"size": font, "color": "#e8eef5"},
        "title": {
            **trace.colorbar.title.to_plotly_json(),
            "text": title.replace("（", "<br>（"),  # two narrow lines
            "font": {"size": font, "color": "#e8eef5"},
        },
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
            f"投诉 {fmt.number(kpis['complaints'])} 件 · 到期 {fmt.number(kpis.get('complaints_due'))} 件",
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


def arrival_text(minutes: float | None) -> str:
    """Minutes as the wall shows them, always in minutes (the colour bar's unit): ``25 分钟``, ``—``."""
    return "—" if minutes is None or minutes != minutes else f"{minutes:.0f} 分钟"


def _ranking(per_squad: list[dict[str, Any]]) -> html.Div:
    rows = sorted(per_squad, key=lambda r: (r[ARRIVAL_METRIC] is None, r[ARRIVAL_METRIC] or 0))
    return html.Div(
        [html.H2(f"各中队{ARRIVAL_LABEL}")]
        + [
            html.Div(
                [
                    html.Span(row["name"], className="rank-name"),
                    html.Span(arrival_text(row[ARRIVAL_METRIC]), className="rank-value"),
                ],
                className=f"rank-row resp-{arrival_band(row[ARRIVAL_METRIC])}",
                style={"borderLeftColor": arrival_colour(row[ARRIVAL_METRIC]) or "#555"},
                **{"data-squad": row["squad_code"], "data-minutes": row[ARRIVAL_METRIC]},
            )
            for row in rows
        ],
        className="wall-ranking",
    )


live.register_wall(WALL_MAP, WALL_LIVE_KPIS, WALL_WARNINGS)


@callback(
    Output(WALL_ROTATION, "children"),
    Output(WALL_FOCUS, "data"),
    Input(WALL_ROTATE, "n_intervals"),
    Input(WALL_STORE, "data"),
)
def rotate(ticks: int | None, store: dict | None) -> tuple[Any, Any]:
    """Show one squad at a time, moving on every rotation tick; its code goes to the map's outline.

    The panel and the outline move in the same response (the outline is redrawn in the browser, see
    the clientside callback below), so the two always name the same squad.
    """
    squads = (store or {}).get("squads") or []
    if not squads:
        return html.Div("等待数据…", className="rotation-empty"), no_update
    row = focused(squads, ticks)
    due = row.get("due") or 0
    on_time = (row.get("due_on_time") or 0) / due if due else None
    panel = html.Div(
        [
            html.Div("中队轮播", className="kpi-title"),
            html.Div(row["name"], className="rotation-name", style={"borderLeftColor": FOCUS_COLOUR}),
            html.Div(
                [
                    _card("今年案件", fmt.number(row["cases"]), ""),
                    _card("未结案件", fmt.number(row["open"]), ""),
                    _card("受理→到场", arrival_text(row.get(ARRIVAL_METRIC)), ""),
                    _card("按期办结率", fmt.percent(on_time), ""),
                ],
                className="rotation-cards",
            ),
        ]
    )
    return panel, row["squad_code"]


# Move the outline (the map trace tagged ``focus``) to the squad the rotation shows, in place: the
# figure's other traces and the view are untouched. A refresh rebuilds the outline on the same squad.
clientside_callback(
    """function(code) {
        const gd = document.querySelector('#wall-map .js-plotly-plot');
        if (!code || !gd || !gd.data) { return window.dash_clientside.no_update; }
        const i = gd.data.findIndex(t => t.meta && t.meta.layer === 'focus');
        if (i >= 0 && (gd.data[i].locations || [])[0] !== code) {
            Plotly.restyle(gd, {locations: [[code]]}, [i]);
        }
        return code;
    }""",
    Output(WALL_FOCUS_DRAWN, "data"),
    Input(WALL_FOCUS, "data"),
)
