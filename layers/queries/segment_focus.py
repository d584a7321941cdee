"""One street segment brought into focus on a map: its line, label, street chief, and the case points on it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from layers._filters import segment_where
from layers._frames import read_frame
from layers._geometry import from_wkb
from layers._privacy import require_case_level
from layers._segment_labels import segment_labels
from layers.base import LayerParams
from layers.queries.case_records import selection_where


@dataclass(frozen=True)
class SegmentFocus:
    """A segment to highlight: geometry (WGS-84), bounds, label, chief, and its cases' points."""

    segment_id: int
    label: str
    chief: str | None
    geometry: BaseGeometry
    bounds: tuple[float, float, float, float]
    cases: pd.DataFrame  # id, case_number, lon, lat: the cases the drill-down of the segment lists, located


def segment_focus(conn: Connection, params: LayerParams, segment_id: int) -> SegmentFocus | None:
    """The segment ``segment_id`` within the scope of ``params`` and its cases in the filters, or None.

    The cases are those the drill-down lists (:func:`layers.queries.case_records.selection_where`):
    the ones counted on the segment (``near_segment_id``), all of them located.

    Raises
    ------
    CaseLevelAccessError
        When the scope allows aggregates only.
    """
    require_case_level(params.scope)
    where = segment_where(params, "s")
    where.add("s.id = :focus_id", focus_id=int(segment_id))
    found = read_frame(
        conn, f"SELECT ST_AsBinary(s.geom) AS wkb FROM street_segments s WHERE {where.sql()}", where.binds
    )
    if found.empty:
        return None
    geometry = from_wkb(found["wkb"])[0]
    cases = selection_where(params, segment_id=segment_id)
    points = read_frame(
        conn,
        f"""SELECT c.id, c.case_number, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat FROM cases c
            WHERE c.geom IS NOT NULL AND {cases.sql()} ORDER BY c.id""",
        cases.binds,
    )
    names = segment_labels(conn, [segment_id], mask_chiefs=params.scope.aggregates_only)
    chief = names["chief"].iloc[0]
    return SegmentFocus(
        segment_id=int(segment_id),
        label=str(names["label"].iloc[0]),
        chief=chief if isinstance(chief, str) else None,
        geometry=geometry,
        bounds=tuple(float(v) for v in shapely.bounds(geometry)),
        cases=points.astype({"lon": float, "lat": float}),
    )
