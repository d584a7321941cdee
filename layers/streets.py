"""Street segments, drawn by road class."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection

from layers._filters import segment_where
from layers._frames import read_geoframe
from layers._geometry import SEGMENT_SIMPLIFY_DEG, segment_trace, simplified_wkb
from layers._style import ROAD_WIDTHS
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register

STREET_COLOR = "#7a8ca0"


def read_segments(conn: Connection, params: LayerParams, extra_columns: str = "") -> pd.DataFrame:
    """Segments allowed by ``params`` (squads, chief scope) with id, name, class, squad, length and geometry."""
    where = segment_where(params, "s")
    tolerance = float(params.options.get("simplify_deg", SEGMENT_SIMPLIFY_DEG))
    sql = f"""SELECT s.id AS segment_id, s.segment_key, s.name, s.road_class, s.township_code, s.squad_code,
                     COALESCE(s.length_m, ST_Length(s.geom::geography)) AS length_m,
                     {simplified_wkb("s.geom", tolerance)} AS wkb {extra_columns}
              FROM street_segments s WHERE {where.sql()} ORDER BY s.id"""
    return read_geoframe(conn, sql, where.binds)


@register
class StreetsLayer(Layer):
    """The street network; line width by road class."""

    name = "streets"
    title = "街路"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        return read_segments(conn, params)

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        traces = []
        classes = data["road_class"].fillna("其他")
        for road_class in sorted(classes.unique(), key=lambda c: -ROAD_WIDTHS.get(c, 1.0)):
            part = data[classes == road_class]
            width = ROAD_WIDTHS.get(road_class, 1.0)
            traces.append(
                segment_trace(part["segment_id"], color=STREET_COLOR, width=width, name=road_class, hover=False)
            )
        return LayerResult(
            traces=traces,
            legend=[LegendItem("街路", STREET_COLOR)],
            summary={"segments": len(data), "length_km": round(float(data["length_m"].sum()) / 1000, 1)},
            data=data,
        )
