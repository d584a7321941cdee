"""Kernel density of cases (plotly Densitymap), from cases binned to a ~30 m grid to keep the payload small."""

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

BIN_DEG = 3e-4  # about 30 m: invisible at county and town zoom


@register
class DensityLayer(Layer):
    """Kernel density of case locations; option ``radius`` (pixels, default 14)."""

    name = "density"
    title = "案件密度"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        points = case_points(conn, params)
        step = float(params.options.get("bin_deg", BIN_DEG))
        grid = np.round(points[["lon", "lat"]].to_numpy(float) / step).astype(np.int64)
        unique, counts = np.unique(grid, axis=0, return_counts=True)
        return pd.DataFrame({"lat": unique[:, 1] * step, "lon": unique[:, 0] * step, "count": counts.astype(int)})

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        trace = go.Densitymap(
            lat=round_coords(data["lat"]),
            lon=round_coords(data["lon"]),
            z=data["count"],
            radius=int(params.options.get("radius", 14)),
            colorscale=[[0.0, "rgba(255,209,102,0)"], *SEQUENTIAL[1:]],
            opacity=0.8,
            showscale=False,
            hoverinfo="skip",
            name="案件密度",
        )
        return LayerResult(
            traces=[trace],
            legend=[LegendItem("低", SEQUENTIAL[0][1]), LegendItem("高", SEQUENTIAL[-1][1])],
            summary={"cases": int(data["count"].sum())},
            data=data,
        )
