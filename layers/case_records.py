"""Case rows for grids, exports and the review queue, filtered and masked by the caller's ``Scope``.

Personal data (parties, complainants) is masked unless ``scope.personal_data``; ``aggregates_only``
scopes get no rows at all. The dashboard reads case rows only through these functions.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers.base import LayerParams

COLUMNS = {
    "case_number": "案件编号",
    "category": "案由/类别",
    "domain": "执法领域",
    "procedure_type": "程序类型",
    "status": "案件状态",
    "address": "地址",
    "geocode_level": "定位精度",
    "squad_code": "中队",
    "street_name": "街路",
    "received_at": "上报时间",
    "arrived_at": "到场时间",
    "closed_at": "办结时间",
    "due_at": "办结期限",
    "party_name": "当事人",
    "party_phone": "当事人电话",
    "complainant_name": "投诉人",
    "complainant_phone": "投诉人电话",
}
PERSONAL = ("party_name", "party_phone", "complainant_name", "complainant_phone")

_ROWS = """
    SELECT c.id, c.case_number, c.category, c.domain, c.procedure_type, c.status, c.address,
           c.geocode_level, c.squad_code, s.name AS street_name, c.segment_id,
           c.received_at AT TIME ZONE :tz AS received_at, c.arrived_at AT TIME ZONE :tz AS arrived_at,
           c.closed_at AT TIME ZONE :tz AS closed_at, c.due_at AT TIME ZONE :tz AS due_at,
           extract(epoch FROM c.arrived_at - c.received_at) / 60.0 AS arrive_min,
           extract(epoch FROM c.closed_at - c.received_at) / 3600.0 AS close_h,
           c.party_name, c.party_phone, c.complainant_name, c.complainant_phone,
           ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat
    FROM cases c
    LEFT JOIN street_segments s ON s.id = c.segment_id
    WHERE {where}
    ORDER BY c.received_at DESC NULLS LAST, c.id DESC
    LIMIT :limit
"""


def mask(value: object) -> object:
    """Mask a name or phone number: keep the first character and the last two, star the rest."""
    if not isinstance(value, str) or not value:
        return value
    if len(value) <= 2:
        return value[0] + "*"
    if len(value) <= 4:
        return value[0] + "*" * (len(value) - 1)
    return value[0] + "*" * (len(value) - 3) + value[-2:]


def _conditions(params: LayerParams, values: dict) -> list[str]:
    scope = params.scope
    where = ["TRUE"]
    if scope.squads is not None:
        where.append("c.squad_code = ANY(:scope_squads)")
        values["scope_squads"] = list(scope.squads)
    if scope.chief_code is not None:
        where.append(
            "c.segment_id IN (SELECT cs.segment_id FROM chief_segments cs JOIN street_chiefs sc ON sc.id = cs.chief_id"
            " WHERE sc.code = :scope_chief)"
        )
        values["scope_chief"] = scope.chief_code
    if params.start is not None:
        where.append("(c.received_at AT TIME ZONE :tz)::date >= :start")
        values["start"] = params.start
    if params.end is not None:
        where.append("(c.received_at AT TIME ZONE :tz)::date <= :end")
        values["end"] = params.end
    if params.squads:
        where.append("c.squad_code = ANY(:squads)")
        values["squads"] = list(params.squads)
    if params.categories:
        where.append("c.category = ANY(:categories)")
        values["categories"] = list(params.categories)
    if params.procedure_types:
        where.append("c.procedure_type = ANY(:procedures)")
        values["procedures"] = list(params.procedure_types)
    return where


def case_rows(
    conn: Connection,
    params: LayerParams,
    *,
    search: str | None = None,
    case_ids: list[int] | None = None,
    segment_ids: list[int] | None = None,
    h3_cells: list[str] | None = None,
    chief_code: str | None = None,
    open_only: bool = False,
    unmatched_only: bool = False,
    limit: int = 5000,
) -> pd.DataFrame:
    """Cases matching ``params`` and the extra filters, newest first, personal data masked per scope.

    Parameters
    ----------
    search
        Text found in the case number, address, category or description.
    h3_cells
        H3 cell ids; a case matches when its point lies in one of them (at each cell's resolution).
    chief_code
        Only cases on that street chief's segments.
    """
    if params.scope.aggregates_only:
        return pd.DataFrame(columns=["id", *COLUMNS, "arrive_min", "close_h", "lon", "lat", "segment_id"])
    values: dict = {"tz": get_region().timezone, "limit": limit}
    where = _conditions(params, values)
    if search:
        where.append("(c.case_number ILIKE :q OR c.address ILIKE :q OR c.category ILIKE :q OR c.description ILIKE :q)")
        values["q"] = f"%{search.strip()}%"
    if case_ids is not None:
        where.append("c.id = ANY(:case_ids)")
        values["case_ids"] = [int(i) for i in case_ids]
    if segment_ids is not None:
        where.append("c.segment_id = ANY(:segment_ids)")
        values["segment_ids"] = [int(i) for i in segment_ids]
    if chief_code is not None:
        where.append(
            "c.segment_id IN (SELECT cs.segment_id FROM chief_segments cs JOIN street_chiefs sc ON sc.id = cs.chief_id"
            " WHERE sc.code = :chief)"
        )
        values["chief"] = chief_code
    if open_only:
        where.append("c.closed_at IS NULL")
    if unmatched_only:
        where.append("c.geocode_level = '未匹配'")
    frame = pd.DataFrame(conn.execute(text(_ROWS.format(where=" AND ".join(where))), values).mappings().all())
    if frame.empty:
        frame = pd.DataFrame(columns=["id", *COLUMNS, "arrive_min", "close_h", "lon", "lat", "segment_id"])
    if h3_cells:
        frame = _in_cells(frame, h3_cells)
    if not params.scope.personal_data:
        for column in PERSONAL:
            frame[column] = frame[column].map(mask)
    return frame.reset_index(drop=True)


def _in_cells(frame: pd.DataFrame, cells: list[str]) -> pd.DataFrame:
    import h3

    wanted = set(cells)
    resolutions = {h3.get_resolution(cell) for cell in wanted}
    located = frame.dropna(subset=["lat", "lon"])
    keep = [
        any(h3.latlng_to_cell(lat, lon, res) in wanted for res in resolutions)
        for lat, lon in zip(located["lat"], located["lon"], strict=True)
    ]
    return located[keep]


def review_queue(conn: Connection, params: LayerParams, limit: int = 2000) -> pd.DataFrame:
    """Cases whose address could not be matched (定位精度 未匹配), for manual review."""
    return case_rows(conn, params, unmatched_only=True, limit=limit)


def for_export(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with Chinese column headers, in the order of :data:`COLUMNS`, for Excel."""
    out = frame.reindex(columns=list(COLUMNS)).rename(columns=COLUMNS)
    for column in ("上报时间", "到场时间", "办结时间", "办结期限"):
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d %H:%M").fillna("")
    return out
