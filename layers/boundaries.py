"""Boundary layers: the county outline, townships (approximate ones marked) and squad jurisdictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
from sqlalchemy.engine import Connection

from layers._filters import squad_where
from layers._frames import read_geoframe
from layers._geometry import feature_collection, line_trace, round_coords, simplified_wkb
from layers._style import MUTED, OUTLINE, squad_colors
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register

APPROXIMATE_NOTE = "乡镇边界为近似"


@register
class CountyLayer(Layer):
    """The county outline as a line."""

    name = "county"
    title = "县界"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        tolerance = float(params.options.get("simplify_deg", 2e-4))
        sql = f"""SELECT code, name, area_km2, {simplified_wkb("geom", tolerance)} AS wkb
                  FROM admin_areas WHERE level = 'county' AND geom IS NOT NULL ORDER BY code"""
        return read_geoframe(conn, sql)

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        trace = line_trace(data.geometry, color="#e0a800", width=3, name="县界", hover=False)
        area = float(data["area_km2"].fillna(0).sum()) if len(data) else 0.0
        return LayerResult(
            traces=[trace],
            legend=[LegendItem("县界", "#e0a800")],
            summary={"area_km2": round(area, 1)},
            data=data,
        )


@register
class TownshipsLayer(Layer):
    """Township (乡镇/街道) boundaries with names; approximate boundaries are drawn dashed and noted."""

    name = "townships"
    title = "乡镇（街道）"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        tolerance = float(params.options.get("simplify_deg", 1e-4))
        sql = f"""SELECT code, name, approximate, area_km2, {simplified_wkb("geom", tolerance)} AS wkb
                  FROM admin_areas WHERE level = 'township' AND geom IS NOT NULL ORDER BY code"""
        return read_geoframe(conn, sql)

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        traces = []
        approx = data["approximate"].fillna(False).astype(bool).to_numpy() if len(data) else np.array([], bool)
        for flag, label, color in ((False, "乡镇边界", OUTLINE), (True, "乡镇边界（近似）", MUTED)):
            part = data[approx == flag]
            if len(part) == 0:
                continue
            traces.append(line_trace(part.geometry, color=color, width=1.5, name=label, hover=False))
        if len(data):
            points = shapely.point_on_surface(np.asarray(data.geometry))
            traces.append(
                go.Scattermap(
                    lon=round_coords(shapely.get_x(points)),
                    lat=round_coords(shapely.get_y(points)),
                    mode="text",
                    text=[f"{n}（近似）" if a else n for n, a in zip(data["name"], approx, strict=True)],
                    textfont={"size": 12, "color": OUTLINE},
                    name="乡镇名称",
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
        notes = [APPROXIMATE_NOTE] if approx.any() else []
        return LayerResult(
            traces=traces,
            legend=[LegendItem("乡镇边界", OUTLINE)],
            summary={"townships": len(data), "approximate_boundaries": int(approx.sum())},
            data=data,
            notes=notes,
        )


@register
class JurisdictionsLayer(Layer):
    """The current version of the squads' jurisdictions (辖区), one colour per squad."""

    name = "jurisdictions"
    title = "中队辖区"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        tolerance = float(params.options.get("simplify_deg", 1e-4))
        where = squad_where(params, "j.squad_code")
        sql = f"""SELECT j.squad_code, COALESCE(q.name, j.name) AS squad_name, j.version, j.area_km2,
                         {simplified_wkb("j.geom", tolerance)} AS wkb
                  FROM jurisdictions j LEFT JOIN squads q ON q.code = j.squad_code
                  WHERE j.is_current AND {where.sql()} ORDER BY j.squad_code"""
        return read_geoframe(conn, sql, where.binds)

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        if len(data) == 0:
            return LayerResult(traces=[], summary={"squads": 0}, data=data)
        codes = list(data["squad_code"])
        n = len(codes)
        colors = list(squad_colors(codes).values())
        scale = [[i / max(n - 1, 1), c] for i, c in enumerate(colors)] if n > 1 else [[0, colors[0]], [1, colors[0]]]
        fill = go.Choroplethmap(
            geojson=feature_collection(codes, list(data.geometry)),
            locations=codes,
            z=list(range(n)),
            colorscale=scale,
            showscale=False,
            marker={"opacity": 0.22, "line": {"width": 1.5, "color": OUTLINE}},
            text=list(data["squad_name"]),
            hovertemplate="%{text}<extra></extra>",
            name="中队辖区",
        )
        points = shapely.point_on_surface(np.asarray(data.geometry))
        labels = go.Scattermap(
            lon=round_coords(shapely.get_x(points)),
            lat=round_coords(shapely.get_y(points)),
            mode="text",
            text=list(data["squad_name"]),
            textfont={"size": 13, "color": OUTLINE},
            hoverinfo="skip",
            showlegend=False,
            name="中队名称",
        )
        legend = [LegendItem(str(name), color) for name, color in zip(data["squad_name"], colors, strict=True)]
        return LayerResult(
            traces=[fill, labels],
            legend=legend,
            summary={"squads": n, "jurisdiction_area_km2": round(float(data["area_km2"].fillna(0).sum()), 1)},
            data=data,
        )
