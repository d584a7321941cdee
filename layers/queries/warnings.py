"""Open warnings (预警) read per street segment, for whoever weighs segments by them (the patrol planner).

The ``warnings`` table is written by :mod:`alerts`; this module only reads it. A warning is on a
segment when its ``segment_id`` is that segment or its subject is the segment itself
(``subject_kind = 'segment'``); it is open at an instant when it was raised before and not
resolved by then.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Connection

from layers._frames import read_frame

SEVERITY_WEIGHTS: dict[str, float] = {"info": 0.25, "warning": 0.5, "critical": 1.0}
"""What one open warning of each severity adds to its segment's score (the score is capped at 1)."""


def segment_warning_scores(conn: Connection, segment_ids: list[int], at: dt.datetime) -> pd.Series:
    """Severity-weighted open warnings per segment at ``at``, 0–1.

    Parameters
    ----------
    conn
        A database connection.
    segment_ids
        The segments to score (e.g. one squad's).
    at
        The instant (aware): warnings raised before it and not resolved by then count.

    Returns
    -------
    pandas.Series
        Indexed by ``segment_ids``: the sum of :data:`SEVERITY_WEIGHTS` of the segment's open
        warnings, capped at 1 (0 for a segment without any).
    """
    if not segment_ids:
        return pd.Series(dtype=float)
    weights = list(SEVERITY_WEIGHTS.items())
    frame = read_frame(
        conn,
        """WITH w AS (
               SELECT DISTINCT ON (w.id) w.id, s.id AS segment_id, w.severity
               FROM warnings w
               JOIN unnest(CAST(:ids AS integer[])) AS s(id)
                 ON s.id = w.segment_id OR (w.subject_kind = 'segment' AND w.subject_id = s.id::text)
               WHERE w.raised_at < :at AND (w.resolved_at IS NULL OR w.resolved_at >= :at)
           )
           SELECT w.segment_id, sum(k.weight) AS score
           FROM w JOIN unnest(CAST(:severities AS text[]), CAST(:weights AS float8[])) AS k(severity, weight)
             ON k.severity = w.severity
           GROUP BY w.segment_id""",
        {
            "ids": [int(i) for i in segment_ids],
            "at": at,
            "severities": [k for k, _ in weights],
            "weights": [v for _, v in weights],
        },
    )
    score = frame.set_index("segment_id")["score"].astype(float).clip(upper=1.0)
    return score.reindex(segment_ids, fill_value=0.0)
