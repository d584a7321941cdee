"""When cases come in: counts by local day of week and hour of day, for a squad's filters or one segment.

Aggregates (counts, no case row), so every scope may read them; the squad page draws them as a heatmap.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._frames import read_frame
from layers.base import LayerParams
from layers.queries.case_records import selection_where

WEEKDAYS = range(1, 8)  # ISO: 1 = Monday … 7 = Sunday
HOURS = range(24)


def hour_weekday(conn: Connection, params: LayerParams, *, segment_id: int | None = None) -> pd.DataFrame:
    """Cases received in the window (filters and scope applied) per local weekday and hour.

    Parameters
    ----------
    conn
        An open connection.
    params
        The page's filters (received-time window, squads, categories, procedures) and the user's scope.
    segment_id
        Only the cases on this segment (the same cases the segment's drill-down lists).

    Returns
    -------
    pandas.DataFrame
        7 × 24 counts: index the ISO weekday (1 = Monday … 7 = Sunday), columns the hour (0 … 23),
        in the region's local time; zeros where no case came in.
    """
    where = selection_where(params, segment_id=segment_id)
    frame = read_frame(
        conn,
        f"""SELECT extract(isodow FROM c.received_at AT TIME ZONE :tz)::int AS weekday,
                   extract(hour FROM c.received_at AT TIME ZONE :tz)::int AS hour, count(*) AS cases
            FROM cases c WHERE {where.sql()} AND c.received_at IS NOT NULL
            GROUP BY 1, 2""",
        {**where.binds, "tz": get_region().timezone},
    )
    if frame.empty:
        return pd.DataFrame(0, index=list(WEEKDAYS), columns=list(HOURS))
    table = frame.pivot_table(index="weekday", columns="hour", values="cases", aggfunc="sum", fill_value=0)
    return table.reindex(index=list(WEEKDAYS), columns=list(HOURS), fill_value=0).astype(int)
