"""Case rates per km² and per km of street by township or jurisdiction, and their change on the previous window."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._filters import case_where, squad_where
from layers._frames import read_geoframe
from layers._geometry import feature_collection, simplified_wkb
from layers._style import DIVERGING, SEQUENTIAL
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register

METRICS = {
    "count": "案件数",
    "per_km2": "每平方公里案件数",
    "per_km": "每公里街路案件数",
    "change_per_km2": "每平方公里案件数变化",
    "change_per_km": "每公里街路案件数变化",
}
DEFAULT_DAYS = 30

_UNITS = {
    "township": """SELECT a.code AS unit, a.name, a.approximate,
                          COALESCE(a.area_km2, ST_Area(a.geom::geography) / 1e6) AS area_km2, a.geom
                   FROM admin_areas a WHERE a.level = 'township' AND a.geom IS NOT NULL""",
    "jurisdiction": """SELECT j.squad_code AS unit, COALESCE(q.name, j.name, j.squad_code) AS name,
                              false AS approximate,
                              COALESCE(j.area_km2, ST_Area(j.geom::geography) / 1e6) AS area_km2, j.geom
                       FROM jurisdictions j LEFT JOIN squads q ON q.code = j.squad_code
                       WHERE j.is_current AND {squads}""",
}


def windows(params: LayerParams, tz) -> tuple[tuple[dt.datetime, dt.datetime], tuple[dt.datetime, dt.datetime]]:
    """The current window and the one of equal length just before it, as aware bounds."""
    end = params.end or dt.datetime.now(tz).date()
    start = params.start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    days = (end - start).days + 1
    cur = (dt.datetime.combine(start, dt.time(), tz), dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz))
    prev_start = start - dt.timedelta(days=days)
    prev = (dt.datetime.combine(prev_start, dt.time(), tz), cur[0])
    return cur, prev


@register
class CaseRatesLayer(Layer):
    """Cases per km² and per km of street for each township (option ``unit='jurisdiction'`` for squads).

    ``params.metric``: one of ``count``, ``per_km2``, ``per_km`` (default), ``change_per_km2``,
    ``change_per_km`` (current window minus the previous window of the same length).
    """

    name = "case_rates"
    title = "案件密度（按面积/街路长度）"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        region = get_region()
        unit = params.options.get("unit", "township")
        if unit not in _UNITS:
            raise ValueError(f"unit must be one of {sorted(_UNITS)}, not {unit!r}")
        cur, prev = windows(params, region.tz)
        cur_where = case_where(params, region.tz, "c", bounds=cur)
        prev_where = case_where(params, region.tz, "c", bounds=prev)
        prev_sql = prev_where.sql()
        for key in prev_where.binds:
            prev_sql = prev_sql.replace(f":{key}", f":p_{key}")
        squads = squad_where(params, "j.squad_code")
        units_sql = _UNITS[unit].format(squads=squads.sql())
        tolerance = float(params.options.get("simplify_deg", 1e-4))
        sql = f"""
            WITH units AS ({units_sql}),
            cur AS (SELECT u.unit, count(*) AS n FROM units u JOIN cases c ON ST_Contains(u.geom, c.geom)
                    WHERE {cur_where.sql()} GROUP BY u.unit),
            prev AS (SELECT u.unit, count(*) AS n FROM units u JOIN cases c ON ST_Contains(u.geom, c.geom)
                     WHERE {prev_sql} GROUP BY u.unit),
            streets AS (SELECT u.unit, sum(COALESCE(s.length_m, ST_Length(s.geom::geography))) AS m
                        FROM units u JOIN street_segments s ON ST_Contains(u.geom, ST_LineInterpolatePoint(s.geom, 0.5))
                        GROUP BY u.unit)
            SELECT u.unit, u.name, u.approximate, u.area_km2, COALESCE(st.m, 0) / 1000.0 AS street_km,
                   COALESCE(cur.n, 0) AS count, COALESCE(prev.n, 0) AS prev_count,
                   {simplified_wkb("u.geom", tolerance)} AS wkb
            FROM units u LEFT JOIN cur ON cur.unit = u.unit LEFT JOIN prev ON prev.unit = u.unit
            LEFT JOIN streets st ON st.unit = u.unit ORDER BY u.unit"""
        binds = {**cur_where.binds, **{f"p_{k}": v for k, v in prev_where.binds.items()}, **squads.binds}
        frame = read_geoframe(conn, sql, binds)
        area = frame["area_km2"].astype(float).where(lambda a: a > 0)
        km = frame["street_km"].astype(float).where(lambda k: k > 0)
        frame["per_km2"] = frame["count"] / area
        frame["per_km"] = frame["count"] / km
        frame["change_per_km2"] = (frame["count"] - frame["prev_count"]) / area
        frame["change_per_km"] = (frame["count"] - frame["prev_count"]) / km
        return frame

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        metric = params.metric or "per_km"
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)}, not {metric!r}")
        values = data[metric].astype(float)
        change = metric.startswith("change")
        units = list(data["unit"])
        trace = go.Choroplethmap(
            geojson=feature_collection(units, list(data.geometry)),
            locations=units,
            z=values.round(3).astype(object).where(values.notna(), None),  # no streets: unfilled
            colorscale=DIVERGING if change else SEQUENTIAL,
            zmid=0 if change else None,
            marker={"opacity": 0.65, "line": {"width": 1, "color": "#ffffff"}},
            colorbar={"title": {"text": METRICS[metric]}},
            text=list(data["name"]),
            customdata=np.stack([data["count"], data["prev_count"]], axis=-1),
            hovertemplate=(
                "%{text}<br>" + METRICS[metric] + "：%{z}<br>本期 %{customdata[0]} 件，上期 %{customdata[1]} 件"
                "<extra></extra>"
            ),
            name=METRICS[metric],
        )
        top = data.sort_values(metric, ascending=False).head(5)
        notes = ["乡镇边界为近似"] if data.get("approximate", pd.Series(dtype=bool)).fillna(False).any() else []
        return LayerResult(
            traces=[trace],
            legend=[LegendItem(METRICS[metric], (DIVERGING if change else SEQUENTIAL)[-1][1])],
            summary={
                "metric": metric,
                "top5": [
                    {"name": n, "value": round(float(v), 2)} for n, v in zip(top["name"], top[metric], strict=True)
                ],
            },
            data=data,
            notes=notes,
        )
