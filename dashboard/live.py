"""The live update path of the wall and squad maps: a light poll that patches only the live traces.

Every page with a live map gets :func:`controls` (an interval, request/answer stores) and its
traces end with the four live traces of :func:`layers.queries.live.live_traces`. The poll:

- a clientside gate turns interval ticks into requests, at most one in flight per client (a tick
  while a request is unanswered is dropped; after :data:`STUCK_MS` it is assumed lost), so a slow
  answer never piles callbacks up behind it;
- a hidden tab does not poll: ``visibilitychange`` disables the interval (clientside), and waking
  sends one request at the next tick, never a backlog;
- the server answers only when a cheap change token moved (new fix, case change, warning, or a
  new minute for the online/stale/offline states), and then with a ``Patch`` of the live traces
  by index from the end of ``figure.data``: no geometry of the other layers is resent, and the view
  stays (``uirevision``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from dash import Input, Output, Patch, State, callback, clientside_callback, dcc, html, no_update

from alerts.store import change_token, open_warnings
from alerts.wall import wall_warnings
from dashboard import basemap, data, fmt
from dashboard.access.scope import WALL, request_scope
from dashboard.warnings_panel import squad_lists, wall_list
from geo.region import get_region
from layers.base import LayerParams, Scope
from layers.queries.kpis import live_figures
from layers.queries.live import TRACE_NAMES, live_frames, live_traces

INTERVAL_MS = 5000  # ≤ 5 s from a fix to the screen plus one request
STUCK_MS = 30000  # an unanswered request older than this is taken as lost


def ids(page: str) -> dict[str, str]:
    """The component ids of the live controls of ``page`` (``wall`` or ``squad``)."""
    return {k: f"{page}-live-{k}" for k in ("tick", "req", "ack", "vis")}


def controls(page: str) -> list:
    """The interval and stores of the live poll of ``page``, to put in its layout."""
    i = ids(page)
    return [
        dcc.Interval(id=i["tick"], interval=INTERVAL_MS),
        dcc.Store(id=i["req"], data={"n": 0, "at": 0}),
        dcc.Store(id=i["ack"], data={"n": 0, "token": None}),
        dcc.Store(id=i["vis"], data=1),
    ]


def now() -> dt.datetime:
    """The current instant in the region's time zone."""
    return dt.datetime.now(get_region().tz)


def traces(scope: Scope, squads: tuple[str, ...] = (), names: bool = False) -> list:
    """The four live traces for the scope (positions, trail, today's cases, warnings), display CRS."""
    at = now()
    frames = data.read(live_frames, scope, at, squads, names)
    warnings = data.read(open_warnings, scope, squad=squads[0] if squads else None)
    return basemap.for_display(live_traces(frames, warnings))


def _patch(new: list) -> Patch:
    patch = Patch()
    count = len(TRACE_NAMES)
    for i, trace in enumerate(new):
        patch["data"][i - count] = trace.to_plotly_json()
    return patch


def _answer(req: dict | None, ack: dict | None, key: dict[str, Any], compute: Callable[[], tuple]) -> tuple:
    """The answer to one live poll: the ack (request number and change token), then nothing when the
    token did not move since the client's last answer, else the ``Patch`` of the live traces and the
    rest of ``compute()`` (its first item: the new live traces)."""
    n = (req or {}).get("n", 0)
    try:
        token = {**data.read(change_token), "minute": int(now().timestamp() // 60), **key}
        if ack and ack.get("token") == token:
            return {"n": n, "token": token}, no_update, no_update, no_update
        new, *rest = compute()
    except data.DataUnavailable:
        return {"n": n, "token": None}, no_update, no_update, no_update
    return {"n": n, "token": token}, _patch(new), *rest


def _gate(page: str) -> None:
    i = ids(page)
    clientside_callback(
        f"""function(n, req, ack) {{
            const now = Date.now();
            req = req || {{n: 0, at: 0}}; ack = ack || {{n: 0}};
            if (document.hidden) {{ return window.dash_clientside.no_update; }}
            if (req.n !== ack.n && now - req.at < {STUCK_MS}) {{ return window.dash_clientside.no_update; }}
            return {{n: req.n + 1, at: now}};
        }}""",
        Output(i["req"], "data"),
        Input(i["tick"], "n_intervals"),
        State(i["req"], "data"),
        State(i["ack"], "data"),
        prevent_initial_call=True,
    )
    clientside_callback(
        f"""function(_) {{
            window._egisLive = window._egisLive || {{}};
            if (!window._egisLive["{i["tick"]}"]) {{
                window._egisLive["{i["tick"]}"] = true;
                document.addEventListener("visibilitychange", function() {{
                    try {{ window.dash_clientside.set_props("{i["tick"]}", {{disabled: document.hidden}}); }}
                    catch (e) {{}}  // another page is shown: its own listener acts
                }});
            }}
            return document.hidden;
        }}""",
        Output(i["tick"], "disabled"),
        Input(i["vis"], "data"),
    )


def live_cards(figures: dict[str, int]) -> list[html.Div]:
    """The live KPI cards: 在岗人数, 今日新增, 待派遣, 超时未到场."""
    labels = (
        ("on_duty", "在岗人数"),
        ("new_today", "今日新增"),
        ("to_dispatch", "待派遣"),
        ("overdue_arrival", "超时未到场"),
    )
    return [
        html.Div(
            [html.Div(label, className="kpi-title"), html.Div(fmt.number(figures[key]), className="kpi-value")],
            className="kpi kpi-live" + (" kpi-alert" if key == "overdue_arrival" and figures[key] else ""),
        )
        for key, label in labels
    ]


def wall_extras(scope: Scope) -> tuple[list[html.Div], html.Div]:
    """Live KPI cards and the warnings list of the wall (raises :class:`data.DataUnavailable`)."""
    figures = data.read(live_figures, LayerParams(scope=scope), now())
    return live_cards(figures), wall_list(data.read(wall_warnings, scope, now()))


def register_wall(map_id: str, kpis_id: str, warnings_id: str) -> None:
    """The wall's live poll: patch the live traces, the live KPI cards and the warnings list."""
    i = ids("wall")
    _gate("wall")

    @callback(
        Output(i["ack"], "data"),
        Output(map_id, "figure", allow_duplicate=True),
        Output(kpis_id, "children"),
        Output(warnings_id, "children"),
        Input(i["req"], "data"),
        State(i["ack"], "data"),
        prevent_initial_call=True,
    )
    def wall_live(req: dict | None, ack: dict | None) -> tuple:
        """One live poll of a wall: nothing when nothing changed, else the live traces only."""
        scope = request_scope(WALL)
        return _answer(req, ack, {}, lambda: (traces(scope), *wall_extras(scope)))


def register_squad(map_id: str, code_id: str, grid_id: str, history_id: str) -> None:
    """The squad page's live poll: patch the live traces (names for the leader) and the warnings list."""
    i = ids("squad")
    _gate("squad")

    @callback(
        Output(i["ack"], "data"),
        Output(map_id, "figure", allow_duplicate=True),
        Output(grid_id, "rowData"),
        Output(history_id, "children"),
        Input(i["req"], "data"),
        State(i["ack"], "data"),
        State(code_id, "data"),
        prevent_initial_call=True,
    )
    def squad_live(req: dict | None, ack: dict | None, code: str | None) -> tuple:
        """One live poll of a squad page: nothing when nothing changed, else the live traces only."""
        scope = request_scope("squad")
        squads = (code,) if code else ()
        return _answer(
            req, ack, {"squad": code}, lambda: (traces(scope, squads, names=True), *squad_lists(code or "", scope))
        )
