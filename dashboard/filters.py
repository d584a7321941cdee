"""Shared filter controls (time window, category, procedure type) and their translation to LayerParams."""

from __future__ import annotations

import datetime as dt

from dash import dcc, html

from geo.region import get_region
from layers.base import LayerParams, Scope

WINDOWS = {"7": "近7天", "30": "近30天", "90": "近90天", "365": "近一年", "ytd": "今年以来"}
DEFAULT_WINDOW = "90"


def procedure_types() -> list[str]:
    """Procedure types of the region's time limits (一般程序, 简易程序, …)."""
    return [name for name in get_region().time_limits if name != "default"]


def window_dates(window: str | None, end: dt.date) -> tuple[dt.date, dt.date]:
    """(start, end) of a window ending on ``end`` (inclusive)."""
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


def controls(prefix: str, categories: list[str], window: str = DEFAULT_WINDOW) -> html.Div:
    """Window, category and procedure dropdowns with ids ``<prefix>-window``, ``-category``, ``-procedure``."""
    return html.Div(
        [
            html.Label(
                [
                    "时间范围",
                    dcc.Dropdown(
                        id=f"{prefix}-window",
                        options=[{"label": v, "value": k} for k, v in WINDOWS.items()],
                        value=window,
                        clearable=False,
                    ),
                ]
            ),
            html.Label(
                [
                    "案由类别",
                    dcc.Dropdown(
                        id=f"{prefix}-category",
                        options=[{"label": c, "value": c} for c in categories],
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
                        multi=True,
                        placeholder="全部程序",
                    ),
                ]
            ),
        ],
        className="filters",
    )
