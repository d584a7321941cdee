"""Cases as points; aggregated to H3 cells when there are many or when the scope allows aggregates only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Connection

from layers._casepoints import case_points
from layers._geometry import round_coords
from layers._style import SEQUENTIAL
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register
from layers.stats.hexgrid import cell_centres, cell_ids, point_cells

MAX_POINTS = 3000  # more cases than this are drawn as cells
AGGREGATE_RESOLUTION = 8  # about 0.74 km² per cell
PROCEDURE_COLORS = {
    "一般程序": "#4e79a7",
    "简易程序": "#59a14f",
    "重大案件": "#e15759",
    "投诉举报": "#f28e2b",
}
OTHER_COLOR = "#9c755f"


@register
class CasesLayer(Layer):
    """Case locations coloured by procedure type, or counts per H3 cell when there are more than ``max_points``."""

    name = "cases"
    title = "案件分布"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        max_points = int(params.options.get("max_points", MAX_POINTS))
        resolution = int(params.options.get("aggregate_resolution", AGGREGATE_RESOLUTION))
        aggregate = params.scope.aggregates_only
        columns = () if aggregate else ("id", "case_number", "category", "procedure_type", "status")
        points = case_points(conn, params, columns=columns)
        if not aggregate and len(points) <= max_points:
            points["kind"] = "point"
            return points
        cells = point_cells(points["lat"].to_numpy(), points["lon"].to_numpy(), resolution)
        unique, counts = np.unique(cells, return_counts=True)
        lat, lon = cell_centres(unique)
        return pd.DataFrame(
            {"kind": "cell", "h3": cell_ids(unique), "lat": lat, "lon": lon, "count": counts.astype(int)}
        )

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        if len(data) == 0:
            return LayerResult(traces=[], summary={"cases": 0}, data=data)
        if data["kind"].iloc[0] == "cell":
            counts = data["count"].to_numpy()
            size = 6 + 22 * np.sqrt(counts / counts.max())
            trace = go.Scattermap(
                lon=round_coords(data["lon"]),
                lat=round_coords(data["lat"]),
                mode="markers",
                marker={
                    "size": size.round(1),
                    "color": counts,
                    "colorscale": SEQUENTIAL,
                    "opacity": 0.8,
                    "colorbar": {"title": {"text": "案件数"}},
                },
                customdata=data["h3"],
                hovertemplate="%{marker.color} 件<extra></extra>",
                name="案件（按网格汇总）",
            )
            return LayerResult(
                traces=[trace],
                legend=[LegendItem("案件数（网格汇总）", SEQUENTIAL[-1][1])],
                summary={"cases": int(counts.sum()), "cells": len(data)},
                data=data,
                notes=["案件较多，按网格汇总显示"],
            )
        traces = []
        legend = []
        kinds = data["procedure_type"].fillna("其他")
        for kind in sorted(kinds.unique()):
            part = data[kinds == kind]
            color = PROCEDURE_COLORS.get(kind, OTHER_COLOR)
            traces.append(
                go.Scattermap(
                    lon=round_coords(part["lon"]),
                    lat=round_coords(part["lat"]),
                    mode="markers",
                    marker={"size": 8, "color": color, "opacity": 0.85},
                    customdata=part["id"],
                    hovertext=[
                        f"{n}<br>{c or ''}<br>{s or ''}"
                        for n, c, s in zip(part["case_number"], part["category"], part["status"], strict=True)
                    ],
                    hoverinfo="text",
                    name=kind,
                )
            )
            legend.append(LegendItem(kind, color))
        return LayerResult(traces=traces, legend=legend, summary={"cases": len(data)}, data=data)
