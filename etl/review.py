"""The review queue: cases whose address matched nothing (and, on request, flagged cases) for a person to fix."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from geo.models import Case


def review_queue(conn: Connection, *, flagged: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """Cases to review, newest first: geocode level 未匹配, plus every flagged case with ``flagged``.

    Returns
    -------
    list of dict
        case_number, received_at, address, reason (why the address did not match), has_point (the
        phone coordinates may still place it), flags, squad_code.
    """
    condition = Case.geocode_level == "未匹配"
    if flagged:
        condition = or_(condition, Case.flags != [])
    rows = conn.execute(
        select(
            Case.case_number,
            Case.received_at,
            Case.address,
            Case.geocode_level,
            Case.attrs["geocode_reason"].astext.label("reason"),
            Case.geom.is_not(None).label("has_point"),
            Case.flags,
            Case.squad_code,
        )
        .where(condition)
        .order_by(Case.received_at.desc(), Case.case_number)
        .limit(limit)
    ).all()
    return [dict(row._mapping) for row in rows]
