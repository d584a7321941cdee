"""Small charts of the desk pages: when cases come in (local weekday × hour heatmap)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
HOUR_LABELS = tuple(f"{h}时" for h in range(24))
# Blues: the map's reds, oranges and greens keep their meanings there; counts here are a neutral scale.
WHEN_COLORSCALE = [[0.0, "#f4f7fb"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1.0, "#08306b"]]


def when_heatmap(table: pd.DataFrame | None, *, empty: str = "暂无案件") -> go.Figure:
    """Cases per weekday (rows, 周一 at the top) and hour (columns, 0–23时) from ``layers.queries.when``.

    Parameters
    ----------
    table
        7 × 24 counts (index ISO weekday 1–7, columns hour 0–23), or None before anything is chosen.
    empty
        The text shown instead of an empty grid (no table, or no case in it).
    """
    figure = go.Figure()
    total = int(table.to_numpy().sum()) if table is not None else 0
    if total:
        figure.add_heatmap(
            z=table.to_numpy().tolist(),
            x=list(HOUR_LABELS),
            y=list(WEEKDAY_LABELS),
            colorscale=WHEN_COLORSCALE,
            zmin=0,
            colorbar={"title": {"text": "案件"}, "thickness": 10},
            hovertemplate="%{y} %{x}：%{z} 件<extra></extra>",
            xgap=1,
            ygap=1,
        )
    else:
        figure.add_annotation(text=empty, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_layout(
        margin={"l": 40, "r": 10, "t": 10, "b": 30},
        xaxis={"tickangle": 0, "tickfont": {"size": 10}, "visible": bool(total), "dtick": 2},
        yaxis={"autorange": "reversed", "visible": bool(total)},
        font={"family": "WenQuanYi Micro Hei, sans-serif", "size": 12},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        meta={"cases": total},
    )
    return figure
