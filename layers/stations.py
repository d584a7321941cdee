"""Squad stations (中队驻地) as labelled points."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Connection

from layers._filters import squad_where
from layers._frames import read_frame
from layers._geometry import round_coords
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register

STATION_COLOR = "#00a6d6"


@register
class StationsLayer(Layer):
    """One marker per squad station, with name, address, phone and officers on hover."""

    name = "stations"
    title = "中队驻地"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        where = squad_where(params, "code")
        sql = f"""SELECT code AS squad_code, name AS squad_name, station_address, phone, officers,
                         ST_X(station) AS lon, ST_Y(station) AS lat
                  FROM squads WHERE station IS NOT NULL AND {where.sql()} ORDER BY code"""
        return read_frame(conn, sql, where.binds)

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        hover = [
            f"{n}<br>{a or ''}<br>电话：{p or '—'}<br>在编：{o if pd.notna(o) else '—'}人"
            for n, a, p, o in zip(
                data["squad_name"], data["station_address"], data["phone"], data["officers"], strict=True
            )
        ]
        trace = go.Scattermap(
            lon=round_coords(data["lon"]),
            lat=round_coords(data["lat"]),
            mode="markers+text",
            marker={"size": 13, "color": STATION_COLOR, "symbol": "circle"},
            text=list(data["squad_name"]),
            textposition="top center",
            hovertext=hover,
            hoverinfo="text",
            name="中队驻地",
        )
        return LayerResult(
            traces=[trace],
            legend=[LegendItem("中队驻地", STATION_COLOR)],
            summary={"stations": len(data), "officers": int(data["officers"].fillna(0).sum()) if len(data) else 0},
            data=data,
        )
