"""Street segments, drawn by road class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from layers._filters import allowed_squads, segment_where
from layers._frames import read_geoframe
from layers._geometry import ribbon_collection, segment_geometry_url, segment_lines, simplified_wkb
from layers._style import ROAD_WIDTHS
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.queries.basemap_tiles import basemap_version
from layers.registry import register

STREET_COLOR = "#7a8ca0"


def read_segments(conn: Connection, params: LayerParams, extra_columns: str = "") -> pd.DataFrame:
    """Segments allowed by ``params`` (squads, chief scope) with id, name, class, squad, length and geometry."""
    where = segment_where(params, "s")
    tolerance = float(params.options.get("simplify_deg", 1e-5))
    sql = f"""SELECT s.id AS segment_id, s.segment_key, s.name, s.road_class, s.township_code, s.squad_code,
                     COALESCE(s.length_m, ST_Length(s.geom::geography)) AS length_m,
                     {simplified_wkb("s.geom", tolerance)} AS wkb {extra_columns}
              FROM street_segments s WHERE {where.sql()} ORDER BY s.id"""
    frame = read_geoframe(conn, sql, where.binds)
    frame.attrs["geometry_url"] = geometry_url(conn, params)
    return frame


def geometry_url(conn: Connection, params: LayerParams) -> str:
    """The URL of the GeoJSON holding every segment ``params`` allows (see :func:`segment_geometry`)."""
    chief = params.scope.chief_code or params.options.get("chief")
    return segment_geometry_url(basemap_version(conn), allowed_squads(params), str(chief) if chief else None)


def segment_geometry(conn: Connection, squads: Sequence[str] | None, chief: str | None) -> dict[str, Any]:
    """The GeoJSON the segment layers draw from: every segment of ``squads`` (None: all) and ``chief``,
    as zero-area ribbon polygons with the segment id as feature ``id`` (``layers._geometry``)."""
    params = LayerParams(squads=tuple(squads or ()), options={"chief": chief} if chief else {})
    if squads is not None and len(squads) == 0:
        return ribbon_collection([], [])
    where = segment_where(params, "s")
    sql = f"""SELECT s.id, {simplified_wkb("s.geom", 1e-5)} AS wkb FROM street_segments s
              WHERE {where.sql()} ORDER BY s.id"""
    frame = read_geoframe(conn, sql, where.binds)
    return ribbon_collection(frame["id"].tolist(), list(frame.geometry))


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
                segment_lines(
                    part["segment_id"], url=data.attrs["geometry_url"], color=STREET_COLOR, width=width, name=road_class
                )
            )
        return LayerResult(
            traces=traces,
            legend=[LegendItem("街路", STREET_COLOR)],
            summary={"segments": len(data), "length_km": round(float(data["length_m"].sum()) / 1000, 1)},
            data=data,
        )
