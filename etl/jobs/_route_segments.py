"""Which street segments a sanitation route runs along: those near the route for most of their length.

Computed in PostGIS in the region's metric CRS. The links are brought in line with the
geometry (missing ones added, stale ones removed), so re-running it changes nothing.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

TOLERANCE_M = 15.0  # a segment this close to the route …
MIN_SHARE = 0.6  # … for at least this share of its length is covered by the route


def match_routes(
    conn: Connection,
    metric_srid: int,
    route_ids: list[int] | None = None,
    tolerance_m: float = TOLERANCE_M,
    min_share: float = MIN_SHARE,
) -> dict[str, int]:
    """Re-derive ``route_segments`` for ``route_ids`` (all routes when ``None``).

    Returns
    -------
    dict
        ``links`` (after), ``added`` and ``removed``.
    """
    if not conn.execute(text("SELECT EXISTS (SELECT 1 FROM sanitation_routes)")).scalar():
        return {"links": 0, "added": 0, "removed": 0}
    # A degree box that surely holds the tolerance (1e-5 degree is about 1 m here).
    pad = tolerance_m * 2e-5
    scope = "TRUE" if route_ids is None else "r.id = ANY(:ids)"
    params = {"srid": metric_srid, "tol": tolerance_m, "share": min_share, "pad": pad, "ids": route_ids or []}
    conn.execute(text("DROP TABLE IF EXISTS _route_links"))
    conn.execute(
        text(
            "CREATE TEMP TABLE _route_links ON COMMIT DROP AS "
            "SELECT DISTINCT r.id AS route_id, s.id AS segment_id FROM sanitation_routes r "
            "JOIN street_segments s ON s.geom && ST_Expand(r.geom, :pad) "
            f"WHERE {scope} AND ST_Length(ST_Transform(s.geom, :srid)) > 0 AND "
            "ST_Length(ST_Intersection(ST_Transform(s.geom, :srid), ST_Buffer(ST_Transform(r.geom, :srid), :tol))) "
            ">= :share * ST_Length(ST_Transform(s.geom, :srid))"
        ),
        params,
    )
    removed = conn.execute(
        text(
            f"DELETE FROM route_segments rs USING sanitation_routes r WHERE rs.route_id = r.id AND {scope} "
            "AND NOT EXISTS (SELECT 1 FROM _route_links l WHERE l.route_id = rs.route_id "
            "AND l.segment_id = rs.segment_id)"
        ),
        params,
    ).rowcount
    added = conn.execute(
        text(
            "INSERT INTO route_segments (route_id, segment_id) SELECT route_id, segment_id FROM _route_links "
            "ON CONFLICT DO NOTHING"
        )
    ).rowcount
    links = conn.execute(text("SELECT count(*) FROM _route_links")).scalar_one()
    conn.execute(text("DROP TABLE _route_links"))
    return {"links": links, "added": added, "removed": removed}
