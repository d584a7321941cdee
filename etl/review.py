"""The review queue on the command line: the cases a person should check (``geo.case_review``), worst first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.case_review import review_condition, review_order, review_reason


def review_queue(conn: Connection, *, limit: int | None = 200) -> list[dict[str, Any]]:
    """Cases to review, worst first, as the case page's 待核查地址 tab lists them (county-wide, any time).

    Parameters
    ----------
    conn
        Database connection.
    limit
        At most this many cases (None: all).

    Returns
    -------
    list of dict
        case_number, received_at, address, geocode_level, geocode_score, reason (why it needs a
        person, :func:`geo.case_review.review_reason`), has_point (the phone coordinates may still
        place it), flags, squad_code.
    """
    paging = "" if limit is None else "LIMIT :limit"
    rows = conn.execute(
        text(
            f"""SELECT c.case_number, c.received_at, c.address, c.geocode_level, c.geocode_score,
                       c.attrs ->> 'geocode_reason' AS geocode_reason, c.geom IS NOT NULL AS has_point,
                       c.flags, c.squad_code
                FROM cases c WHERE {review_condition("c")} ORDER BY {review_order("c")} {paging}"""
        ),
        {} if limit is None else {"limit": int(limit)},
    ).all()
    queue = []
    for row in rows:
        record = dict(row._mapping)
        geocode_reason = record.pop("geocode_reason")
        record["reason"] = review_reason(
            record["geocode_level"], record["geocode_score"], record["flags"], geocode_reason
        )
        queue.append(record)
    return queue


def review_count(conn: Connection) -> int:
    """How many cases the queue holds (county-wide, any time)."""
    return int(conn.execute(text(f"SELECT count(*) FROM cases c WHERE {review_condition('c')}")).scalar_one())
