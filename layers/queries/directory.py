"""Who and what exists: squads, street chiefs, case categories (lists for navigation and filters)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers.base import Scope


def squads(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Squads the scope may see: code, name, short_name, officers, centre lon/lat of the jurisdiction."""
    frame = pd.DataFrame(
        conn.execute(
            text(
                """
                SELECT s.code, s.name, s.short_name, s.officers,
                       ST_X(ST_Centroid(j.geom)) AS lon, ST_Y(ST_Centroid(j.geom)) AS lat,
                       ST_XMin(j.geom) AS xmin, ST_YMin(j.geom) AS ymin,
                       ST_XMax(j.geom) AS xmax, ST_YMax(j.geom) AS ymax
                FROM squads s
                LEFT JOIN jurisdictions j ON j.squad_code = s.code AND j.is_current
                ORDER BY s.code
                """
            )
        )
        .mappings()
        .all(),
        columns=["code", "name", "short_name", "officers", "lon", "lat", "xmin", "ymin", "xmax", "ymax"],
    )
    if scope.squads is not None:
        frame = frame[frame["code"].isin(scope.squads)]
    return frame.reset_index(drop=True)


def chiefs(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Active street chiefs the scope may see: code, name, role, squad_code, streets (names joined by 、)."""
    frame = pd.DataFrame(
        conn.execute(
            text(
                """
                SELECT c.code, c.name, c.role, c.squad_code,
                       string_agg(DISTINCT coalesce(cs.street_name, s.name), '、') AS streets,
                       ST_XMin(ST_Extent(s.geom)) AS xmin, ST_YMin(ST_Extent(s.geom)) AS ymin,
                       ST_XMax(ST_Extent(s.geom)) AS xmax, ST_YMax(ST_Extent(s.geom)) AS ymax
                FROM street_chiefs c
                LEFT JOIN chief_segments cs ON cs.chief_id = c.id
                LEFT JOIN street_segments s ON s.id = cs.segment_id
                WHERE c.active
                GROUP BY c.id
                ORDER BY c.squad_code, c.code
                """
            )
        )
        .mappings()
        .all(),
        columns=["code", "name", "role", "squad_code", "streets", "xmin", "ymin", "xmax", "ymax"],
    )
    if scope.squads is not None:
        frame = frame[frame["squad_code"].isin(scope.squads)]
    if scope.chief_code is not None:
        frame = frame[frame["code"] == scope.chief_code]
    return frame.reset_index(drop=True)


def categories(conn: Connection, scope: Scope) -> list[str]:
    """Case categories present in the data (for filters), most frequent first."""
    rows = conn.execute(
        text(
            """
            SELECT category FROM cases
            WHERE category IS NOT NULL AND (CAST(:squads AS text[]) IS NULL OR squad_code = ANY(:squads))
            GROUP BY category ORDER BY count(*) DESC
            """
        ),
        {"squads": list(scope.squads) if scope.squads is not None else None},
    ).all()
    return [row[0] for row in rows]


def newest_case_time(conn: Connection) -> dt.datetime | None:
    """Received time of the newest case not dated after now (a case ahead of the clock is never the newest)."""
    return conn.execute(text("SELECT max(received_at) FROM cases WHERE received_at <= now()")).scalar_one()


def default_window_end(conn: Connection, scope: Scope) -> dt.date:
    """The day every default time window ends on: the region's today, or the last day with cases when older.

    Anchored on the region's clock, never on the largest date in the data: a case dated in the future
    cannot move the windows. When the data stops before today (a bureau loading a historical export,
    or the last import a few days ago) the windows end on its last day, so "近30天" shows the last 30
    days that were loaded rather than an empty month. County-wide, so that a window means the same
    days on every page and for every user (``scope`` is accepted for the common data-step signature).
    """
    today = dt.datetime.now(get_region().tz).date()
    newest = newest_case_time(conn)
    return min(today, newest.astimezone(get_region().tz).date()) if newest else today
