"""Case rows for grids, exports, drill-downs and the review queue, filtered and masked per the user's scope.

The dashboard reads case-level data only through these functions, never by SQL of its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import h3
import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from geo.case_number import normalize_case_number
from geo.case_review import review_condition, review_order, review_reason
from geo.errors import RequestError
from geo.geocode.normalize import fold_width
from geo.region import get_region
from layers._filters import Where, case_where
from layers._frames import read_frame
from layers._geometry import DECIMALS
from layers._privacy import PERSONAL_COLUMNS, CaseLevelAccessError, mask_frame, require_case_level
from layers.base import LayerParams

__all__ = [
    "EXPORT_HEADERS",
    "MAX_SEARCH_CHARS",
    "SEARCH_COLUMNS",
    "CaseLevelAccessError",
    "case_count",
    "case_counts",
    "case_number_match",
    "case_rows",
    "review_count",
    "review_queue",
    "selection_where",
]

BASE_COLUMNS = (
    "id",
    "case_number",
    "category",
    "domain",
    "procedure_type",
    "source",
    "status",
    "address",
    "squad_code",
    "reported_squad",
    "township_code",
    "segment_id",
    "near_segment_id",
    "geocode_level",
    "geocode_score",
    "received_at",
    "dispatched_at",
    "arrived_at",
    "closed_at",
    "due_at",
    "time_limit",
    "description",
    "flags",
)

# The search matches text in these columns; each has a pg_trgm GIN index (migration 1102), so
# ``column ILIKE '%text%'`` is an index scan, not a scan of every case.
SEARCH_COLUMNS = ("case_number", "address", "description", "category")
MAX_SEARCH_CHARS = 100  # longer input is refused: a case number, an address or a phrase fits easily

# The columns of a case export (``dashboard.components.excel_bytes``), in order, with their headers.
EXPORT_HEADERS = {
    "case_number": "案件编号",
    "category": "案由/类别",
    "domain": "执法领域",
    "procedure_type": "程序类型",
    "source": "发现方式",
    "status": "案件状态",
    "description": "案情描述",
    "address": "地址",
    "received_at": "上报时间",
    "dispatched_at": "派遣时间",
    "arrived_at": "到场时间",
    "closed_at": "办结时间",
    "due_at": "办理期限",
    "squad_code": "所属中队",
    "lon": "经度",
    "lat": "纬度",
    "geocode_level": "定位精度",
    "review_reason": "核查原因",
    "party_name": "当事人",
    "party_phone": "当事人电话",
    "party_id_number": "当事人证件号码",
    "complainant_name": "投诉人",
    "complainant_phone": "投诉人电话",
}


def search_pattern(search: str | None) -> str | None:
    """The ``ILIKE`` pattern of a search text (``%`` and ``_`` literal), or None for no search.

    Raises
    ------
    geo.errors.RequestError
        When the text is longer than :data:`MAX_SEARCH_CHARS` characters (Chinese message).
    """
    text = (fold_width(search) or "").strip()  # 解放街１８８ finds 解放街188: stored text is folded too
    if not text:
        return None
    if len(text) > MAX_SEARCH_CHARS:
        raise RequestError(f"搜索内容过长（{len(text)} 个字符），最多 {MAX_SEARCH_CHARS} 个字符，请缩短后重试")
    return "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"


def selection_where(params: LayerParams, *, segment_id: int | None = None) -> Where:
    """Conditions (alias ``c``) of the cases a drill-down on ``segment_id`` lists within ``params``.

    The one rule shared by the drill-down rows, their count, their export, the map's highlight of the
    segment's case points (:mod:`layers.queries.segment_focus`) and aggregates over the same cases
    (e.g. by hour, :mod:`layers.queries.when`).
    """
    return _where(params, h3_cell=None, segment_id=segment_id, search=None)


def _where(
    params: LayerParams,
    *,
    h3_cell: str | None,
    segment_id: int | None,
    search: str | None,
    case_ids: list[int] | None = None,
    case_number: str | None = None,
) -> Where:
    where = case_where(params, get_region().tz, "c")
    if case_number is not None:
        where.add("c.case_number = :case_number", case_number=case_number)
    if segment_id is not None:
        # the segment the case counts on, as stored by the ETL (geo/case_segments.py)
        where.add("c.near_segment_id = :segment_id", segment_id=int(segment_id))
    if h3_cell:
        # Coarse filter on the cell's bounding box here; the exact cell test runs on the rows.
        ring = h3.cell_to_boundary(h3_cell)
        lats = [p[0] for p in ring]
        lons = [p[1] for p in ring]
        where.add(
            "c.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)",
            x0=min(lons) - 1e-6,
            y0=min(lats) - 1e-6,
            x1=max(lons) + 1e-6,
            y1=max(lats) + 1e-6,
        )
    pattern = search_pattern(search)
    if pattern is not None:
        where.add(" OR ".join(f"c.{column} ILIKE :q" for column in SEARCH_COLUMNS), q=pattern)
    if case_ids is not None:
        where.add("c.id = ANY(:case_ids)", case_ids=[int(i) for i in case_ids])
    return where


def case_rows(
    conn: Connection,
    params: LayerParams,
    *,
    h3_cell: str | None = None,
    segment_id: int | None = None,
    search: str | None = None,
    case_ids: list[int] | None = None,
    case_number: str | None = None,
    limit: int | None = 500,
    offset: int = 0,
    order: str = "received_desc",
) -> pd.DataFrame:
    """Case rows matching the parameters (window on received time, squads, categories, procedure types).

    Parameters
    ----------
    conn
        Database connection.
    params
        Layer parameters; ``params.scope`` restricts squads / street chief and masks personal data.
    h3_cell
        Only cases inside this H3 cell (hex string), for a hotspot drill-down.
    segment_id
        Only cases counted on this street segment (``near_segment_id``, :mod:`geo.case_segments`).
    search
        Text searched in case number, address, description and category (at most
        :data:`MAX_SEARCH_CHARS` characters).
    case_ids
        Only these case ids.
    case_number
        Only the case of this (normalised) number, e.g. from :func:`case_number_match`.
    limit, offset
        Paging; ``limit`` None returns every row.
    order
        ``received_desc`` (newest first) or ``received_asc``.

    Returns
    -------
    pandas.DataFrame
        One row per case, times in the region's time zone, ``lon``/``lat`` rounded, personal
        data masked unless the scope allows it.

    Raises
    ------
    CaseLevelAccessError
        When the scope allows aggregates only.
    geo.errors.RequestError
        When ``search`` is too long.
    """
    require_case_level(params.scope)
    region = get_region()
    where = _where(
        params, h3_cell=h3_cell, segment_id=segment_id, search=search, case_ids=case_ids, case_number=case_number
    )
    direction = "ASC" if order == "received_asc" else "DESC"
    columns = ", ".join(f"c.{c}" for c in BASE_COLUMNS + PERSONAL_COLUMNS)
    paging = ""
    binds: dict[str, Any] = dict(where.binds)
    if limit is not None and not h3_cell:
        paging = "LIMIT :limit OFFSET :offset"
        binds.update(limit=int(limit), offset=int(offset))
    sql = f"""SELECT {columns}, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat
              FROM cases c WHERE {where.sql()}
              ORDER BY c.received_at {direction} NULLS LAST, c.id {paging}"""
    frame = read_frame(conn, sql, binds)
    if h3_cell:
        frame = _in_cell(frame, h3_cell)
        if limit is not None:
            frame = frame.iloc[offset : offset + limit]
    for column in ("received_at", "dispatched_at", "arrived_at", "closed_at", "due_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(region.tz)
    frame["lon"] = frame["lon"].astype(float).round(DECIMALS + 1)
    frame["lat"] = frame["lat"].astype(float).round(DECIMALS + 1)
    return mask_frame(frame.reset_index(drop=True), params.scope)


def _in_cell(frame: pd.DataFrame, h3_cell: str) -> pd.DataFrame:
    resolution = h3.get_resolution(h3_cell)
    inside = np.array(
        [
            lat == lat and h3.latlng_to_cell(lat, lon, resolution) == h3_cell
            for lat, lon in zip(frame["lat"], frame["lon"], strict=True)
        ],
        dtype=bool,
    )
    return frame[inside]


def case_count(
    conn: Connection,
    params: LayerParams,
    *,
    segment_id: int | None = None,
    search: str | None = None,
    case_number: str | None = None,
) -> int:
    """Number of cases :func:`case_rows` would return without paging (aggregate: allowed for every scope)."""
    where = _where(params, h3_cell=None, segment_id=segment_id, search=search, case_number=case_number)
    frame = read_frame(conn, f"SELECT count(*) AS n FROM cases c WHERE {where.sql()}", where.binds)
    return int(frame["n"].iloc[0])


def case_number_match(conn: Connection, params: LayerParams, search: str | None) -> str | None:
    """The case number a search text spells, when a case of that number is in the scope, whatever its date.

    A case number names one case: it is found outside the time window and the category filters
    (``params.start``/``end``, categories and procedure types are ignored; squads and scope apply).

    Returns
    -------
    str or None
        The normalised number (:func:`geo.case_number.normalize_case_number`), or None.
    """
    number = normalize_case_number(search)
    if not number or len(number) > 64:
        return None
    unwindowed = replace(params, start=None, end=None, categories=(), procedure_types=())
    where = _where(unwindowed, h3_cell=None, segment_id=None, search=None, case_number=number)
    found = read_frame(conn, f"SELECT count(*) AS n FROM cases c WHERE {where.sql()}", where.binds)
    return number if int(found["n"].iloc[0]) else None


GROUPINGS = {
    "squad": "c.squad_code",
    "category": "c.category",
    "domain": "c.domain",
    "procedure_type": "c.procedure_type",
    "status": "c.status",
    "township": "c.township_code",
    "day": "(c.received_at AT TIME ZONE :tz)::date",
    "month": "date_trunc('month', c.received_at AT TIME ZONE :tz)::date",
}


def case_counts(conn: Connection, params: LayerParams, by: str = "squad") -> pd.DataFrame:
    """Cases received in the window counted per group (an aggregate: allowed for every scope).

    Parameters
    ----------
    by
        One of ``squad``, ``category``, ``domain``, ``procedure_type``, ``status``, ``township``,
        ``day`` or ``month`` (local dates).

    Returns
    -------
    pandas.DataFrame
        Columns ``key`` and ``count``, largest first (by date for ``day``/``month``).
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {sorted(GROUPINGS)}, not {by!r}")
    region = get_region()
    where = _where(params, h3_cell=None, segment_id=None, search=None)
    order = "key" if by in ("day", "month") else "count DESC, key"
    sql = f"""SELECT {GROUPINGS[by]} AS key, count(*) AS count FROM cases c WHERE {where.sql()}
              GROUP BY 1 ORDER BY {order}"""
    return read_frame(conn, sql, {**where.binds, "tz": region.timezone})


def review_queue(conn: Connection, params: LayerParams, *, limit: int | None = 500, offset: int = 0) -> pd.DataFrame:
    """The cases of the window and filters that need a person (:mod:`geo.case_review`), worst first.

    Parameters
    ----------
    conn
        Database connection.
    params
        Layer parameters (window, squads, categories, procedure types, scope).
    limit, offset
        Paging: at most ``limit`` cases (None: all) from position ``offset`` of the queue;
        :func:`review_count` gives the true count.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`case_rows` plus ``review_reason`` (Chinese, why the case is listed).

    Raises
    ------
    CaseLevelAccessError
        When the scope allows aggregates only.
    """
    require_case_level(params.scope)
    where = _review_where(params)
    paging = "OFFSET :offset" if limit is None else "LIMIT :limit OFFSET :offset"
    binds = {**where.binds, "offset": int(offset), **({} if limit is None else {"limit": int(limit)})}
    sql = f"""SELECT c.id, c.attrs ->> 'geocode_reason' AS geocode_reason FROM cases c WHERE {where.sql()}
              ORDER BY {review_order("c")} {paging}"""
    listed = read_frame(conn, sql, binds)
    ids = [int(i) for i in listed["id"]]
    frame = case_rows(conn, params, case_ids=ids, limit=None)
    frame = frame.set_index("id").loc[ids].reset_index() if ids else frame
    geocode_reasons = [said if isinstance(said, str) else None for said in listed["geocode_reason"]]
    frame["review_reason"] = [
        review_reason(level, score, flags, said)
        for level, score, flags, said in zip(
            frame["geocode_level"], frame["geocode_score"], frame["flags"], geocode_reasons, strict=True
        )
    ]
    return frame


def review_count(conn: Connection, params: LayerParams) -> int:
    """How many cases of the window and filters need a person (the queue without its display limit)."""
    where = _review_where(params)
    frame = read_frame(conn, f"SELECT count(*) AS n FROM cases c WHERE {where.sql()}", where.binds)
    return int(frame["n"].iloc[0])


def _review_where(params: LayerParams) -> Where:
    where = _where(params, h3_cell=None, segment_id=None, search=None)
    where.add(review_condition("c"))
    return where
