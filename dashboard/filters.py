"""Shared filter controls (time window or a custom date range, category, procedure type), their translation
to LayerParams, and the filters kept in the page's URL (query string) so that a view can be bookmarked or sent.

A custom range travels as the window's value itself (``"2025-12-01~2026-11-30"``, :func:`range_value`):
every callback that passes a window to :func:`params` takes custom ranges without a change.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from dash import Input, Output, State, clientside_callback, dcc, html

from geo.region import get_region
from layers.base import LayerParams, Scope

WINDOWS = {"7": "近7天", "30": "近30天", "90": "近90天", "365": "近一年", "ytd": "今年以来"}
DEFAULT_WINDOW = "90"
RANGE_SEPARATOR = "~"
LIST_SEPARATOR = ","


def range_value(start: dt.date | str, end: dt.date | str) -> str:
    """The window value of a custom date range: ``"2025-12-01~2026-11-30"``."""
    return f"{str(start)[:10]}{RANGE_SEPARATOR}{str(end)[:10]}"


def custom_range(window: str | None) -> tuple[dt.date, dt.date] | None:
    """(start, end) of a custom-range window value (swapped when given backwards), else None."""
    if not window or RANGE_SEPARATOR not in window:
        return None
    try:
        start, end = (dt.date.fromisoformat(part.strip()) for part in window.split(RANGE_SEPARATOR, 1))
    except ValueError:
        return None
    return (start, end) if start <= end else (end, start)


def window_label(window: str | None, presets: Mapping[str, str] = WINDOWS) -> str:
    """How a window is named on the page: ``近30天``, or ``2025-12-01 至 2026-11-30`` for a custom range
    (an unknown window: the page's default preset, else its first)."""
    chosen = custom_range(window)
    if chosen is not None:
        return f"{chosen[0]:%Y-%m-%d} 至 {chosen[1]:%Y-%m-%d}"
    return presets.get(window or "") or presets.get(DEFAULT_WINDOW) or next(iter(presets.values()))


def window_options(window: str | None = None, presets: Mapping[str, str] = WINDOWS) -> list[dict[str, str]]:
    """The page's preset windows, plus ``window`` when it is a custom range (a dropdown shows only known values)."""
    options = [{"label": v, "value": k} for k, v in presets.items()]
    if custom_range(window) is not None:
        options.append({"label": window_label(window), "value": window})
    return options


def procedure_types() -> list[str]:
    """Procedure types of the region's time limits (一般程序, 简易程序, …)."""
    return [name for name in get_region().time_limits if name != "default"]


def window_dates(window: str | None, end: dt.date) -> tuple[dt.date, dt.date]:
    """(start, end) of a window ending on ``end`` (inclusive); a custom range gives its own dates."""
    chosen = custom_range(window)
    if chosen is not None:
        return chosen
    window = window if window in WINDOWS else DEFAULT_WINDOW
    if window == "ytd":
        return dt.date(end.year, 1, 1), end
    return end - dt.timedelta(days=int(window) - 1), end


def params(
    *,
    window: str | None,
    end: dt.date | str | None,
    scope: Scope,
    squads: tuple[str, ...] = (),
    categories: list[str] | None = None,
    procedures: list[str] | None = None,
    **extra: object,
) -> LayerParams:
    """LayerParams for the filter values.

    ``end`` is the window's last day: a date, its ISO text (as a page keeps it in a ``dcc.Store``),
    or None / "" for today in the region's time zone.
    """
    if isinstance(end, str):
        end = dt.date.fromisoformat(end) if end else None
    end = end or dt.datetime.now(get_region().tz).date()
    start, end = window_dates(window, end)
    return LayerParams(
        start=start,
        end=end,
        squads=squads,
        categories=tuple(categories or ()),
        procedure_types=tuple(procedures or ()),
        scope=scope,
        **extra,  # type: ignore[arg-type]
    )


def window_controls(
    prefix: str, window: str = DEFAULT_WINDOW, presets: Mapping[str, str] = WINDOWS, **dropdown: Any
) -> list[Any]:
    """The window dropdown ``<prefix>-window`` (its ``presets``) and beside it the custom date range ``<prefix>-range``.

    Picking both dates of the range makes it the window (a clientside callback of :func:`sync`).
    """
    chosen = custom_range(window)
    return [
        html.Label(
            [
                "时间范围",
                dcc.Dropdown(
                    id=f"{prefix}-window",
                    options=window_options(window, presets),
                    value=window,
                    clearable=False,
                    **dropdown,
                ),
            ]
        ),
        html.Label(
            [
                "自定义日期",
                dcc.DatePickerRange(
                    id=f"{prefix}-range",
                    start_date=chosen[0].isoformat() if chosen else None,
                    end_date=chosen[1].isoformat() if chosen else None,
                    display_format="YYYY-MM-DD",
                    start_date_placeholder_text="开始日期",
                    end_date_placeholder_text="结束日期",
                    first_day_of_week=1,
                    minimum_nights=0,
                    clearable=True,
                ),
            ],
            className="date-range",
        ),
    ]


def controls(
    prefix: str,
    categories: list[str],
    window: str = DEFAULT_WINDOW,
    category: list[str] | None = None,
    procedure: list[str] | None = None,
) -> html.Div:
    """Window (with its custom range), category and procedure controls: ids ``<prefix>-window``, ``-range``,
    ``-category``, ``-procedure``; initial values e.g. from :func:`from_query`."""
    return html.Div(
        [
            *window_controls(prefix, window),
            html.Label(
                [
                    "案由类别",
                    dcc.Dropdown(
                        id=f"{prefix}-category",
                        options=[{"label": c, "value": c} for c in categories],
                        value=category or None,
                        multi=True,
                        placeholder="全部类别",
                    ),
                ]
            ),
            html.Label(
                [
                    "程序类型",
                    dcc.Dropdown(
                        id=f"{prefix}-procedure",
                        options=[{"label": p, "value": p} for p in procedure_types()],
                        value=procedure or None,
                        multi=True,
                        placeholder="全部程序",
                    ),
                ]
            ),
        ],
        className="filters",
    )


# -- the filters in the URL ------------------------------------------------------------------------
def from_query(query: Mapping[str, Any], lists: tuple[str, ...] = ("category", "procedure", "squad")) -> dict[str, Any]:
    """Filter values from a page's query string (the keyword arguments Dash gives ``layout``).

    Keys in ``lists`` are comma-separated lists; a window is kept only when it is a preset or a valid
    custom range; everything else is text (stripped, empty dropped).
    """
    values: dict[str, Any] = {}
    for key, raw in query.items():
        text = str(raw).strip() if raw is not None else ""
        if not text:
            continue
        if key in lists:
            values[key] = [part for part in text.split(LIST_SEPARATOR) if part]
        elif key == "window":
            if text in WINDOWS or custom_range(text) is not None:
                values[key] = text
        else:
            values[key] = text
    return values


_RANGE_TO_WINDOW = """
function(start, end, options) {
    const nothing = window.dash_clientside.no_update;
    if (!start || !end) { return [nothing, nothing]; }
    let a = String(start).slice(0, 10), b = String(end).slice(0, 10);
    if (a > b) { [a, b] = [b, a]; }
    const value = a + "SEP" + b;
    const kept = (options || []).filter(o => String(o.value).indexOf("SEP") < 0);
    return [value, kept.concat([{label: a + " 至 " + b, value: value}])];
}
""".replace("SEP", RANGE_SEPARATOR)

_TO_URL = """
function(...values) {
    const keys = KEYS;
    const query = new URLSearchParams();
    keys.forEach((key, i) => {
        const v = values[i];
        if (v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) { return; }
        query.set(key, Array.isArray(v) ? v.join("SEP") : String(v));
    });
    const text = query.toString();
    const url = window.location.pathname + (text ? "?" + text : "");
    if (url !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, "", url);
    }
    return text;
}
"""


def url_store(prefix: str) -> dcc.Store:
    """The store the URL callback of :func:`sync` writes the query string to (place it in the layout)."""
    return dcc.Store(id=f"{prefix}-url")


def sync(prefix: str, fields: Mapping[str, tuple[str, str]], *, custom_range_control: bool = True) -> None:
    """Register a page's clientside callbacks: the custom range → the window, and the filters → the URL.

    Parameters
    ----------
    prefix
        The page's id prefix (``cases``, ``squad`` …); the layout holds :func:`url_store` of it.
    fields
        Query-string key → (component id, property), e.g. ``{"window": ("squad-window", "value")}``;
        opening the URL restores them through :func:`from_query` in the page's ``layout``.
    custom_range_control
        The page has ``<prefix>-range`` (from :func:`window_controls`) beside ``<prefix>-window``.
    """
    if custom_range_control:
        clientside_callback(
            _RANGE_TO_WINDOW,
            Output(f"{prefix}-window", "value"),
            Output(f"{prefix}-window", "options"),
            Input(f"{prefix}-range", "start_date"),
            Input(f"{prefix}-range", "end_date"),
            State(f"{prefix}-window", "options"),
            prevent_initial_call=True,
        )
    clientside_callback(
        _TO_URL.replace("KEYS", json.dumps(list(fields))).replace("SEP", LIST_SEPARATOR),
        Output(f"{prefix}-url", "data"),
        *(Input(component, prop) for component, prop in fields.values()),
    )
