"""Names that tell street segments apart (cross streets at both ends, else door numbers) and their street chiefs."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy.engine import Connection

from layers._frames import read_frame
from layers._privacy import mask_name

UNNAMED = "未命名路段"
END_TOLERANCE_DEG = 2e-5  # about 2 m: a street touching a segment's end point crosses it there
ROAD_CLASS_ORDER = "CASE t.road_class WHEN '主干路' THEN 0 WHEN '次干路' THEN 1 WHEN '支路' THEN 2 ELSE 3 END"

_SQL = f"""
WITH sel AS (
    SELECT s.id, s.name, s.segment_key, ST_StartPoint(s.geom) AS a, ST_EndPoint(s.geom) AS b,
           LEAST(s.left_from, s.right_from) AS door_from, GREATEST(s.left_to, s.right_to) AS door_to
    FROM street_segments s JOIN unnest(CAST(:ids AS integer[])) AS u(id) ON u.id = s.id
)
SELECT sel.id AS segment_id, sel.name, sel.segment_key, sel.door_from, sel.door_to,
       (SELECT t.name FROM street_segments t
         WHERE t.id <> sel.id AND t.name IS NOT NULL AND t.name IS DISTINCT FROM sel.name
           AND ST_DWithin(t.geom, sel.a, {END_TOLERANCE_DEG})
         ORDER BY {ROAD_CLASS_ORDER}, t.name LIMIT 1) AS from_street,
       (SELECT t.name FROM street_segments t
         WHERE t.id <> sel.id AND t.name IS NOT NULL AND t.name IS DISTINCT FROM sel.name
           AND ST_DWithin(t.geom, sel.b, {END_TOLERANCE_DEG})
         ORDER BY {ROAD_CLASS_ORDER}, t.name LIMIT 1) AS to_street,
       (SELECT string_agg(DISTINCT sc.name, '、' ORDER BY sc.name) FROM chief_segments cs
          JOIN street_chiefs sc ON sc.id = cs.chief_id WHERE cs.segment_id = sel.id AND sc.active) AS chief
FROM sel
"""


def segment_labels(conn: Connection, segment_ids: Sequence[int], *, mask_chiefs: bool = False) -> pd.DataFrame:
    """A label per segment that tells it from others of the same name, and its street chiefs.

    Parameters
    ----------
    conn
        Database connection.
    segment_ids
        The segments.
    mask_chiefs
        Mask the chiefs' names (a scope that shows no person's name, e.g. the wall).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``segment_id``: ``label`` (e.g. ``城东路（解放街—熟溪路）``: the cross streets at
        the segment's two ends from the street network; ``城东路（1—99号）`` when no other street meets
        it; the segment key as a last resort; segments still alike get their door numbers or key added)
        and ``chief`` (names joined by "、", or None).
    """
    ids = [int(i) for i in segment_ids]
    frame = read_frame(conn, _SQL, {"ids": ids})
    if frame.empty:
        return pd.DataFrame({"label": pd.Series(dtype=object), "chief": pd.Series(dtype=object)})
    frame["label"] = [_label(row) for row in frame.itertuples(index=False)]
    twins = frame["label"].duplicated(keep=False)  # same name, same cross streets: add door numbers or key
    frame.loc[twins, "label"] = [_label(row, extra=True) for row in frame[twins].itertuples(index=False)]
    if mask_chiefs:
        frame["chief"] = frame["chief"].map(lambda n: "、".join(map(mask_name, n.split("、"))) if n else None)
    frame = frame.set_index("segment_id")
    out = frame[["label", "chief"]].reindex(ids).astype(object)
    return out.where(out.notna(), None)


def _label(row, extra: bool = False) -> str:
    name = row.name if isinstance(row.name, str) and row.name else UNNAMED
    doors = f"{int(row.door_from)}—{int(row.door_to)}号" if pd.notna(row.door_from) and pd.notna(row.door_to) else None
    ends = [s for s in (row.from_street, row.to_street) if isinstance(s, str) and s]
    if len(ends) == 2 and ends[0] != ends[1]:
        where = f"{ends[0]}—{ends[1]}"
    elif ends:
        where = f"{ends[0]}路口"
    else:
        return (
            f"{name}（{doors or row.segment_key}）"
            if not (extra and doors)
            else f"{name}（{doors}，{row.segment_key}）"
        )
    return f"{name}（{where}，{doors or row.segment_key}）" if extra else f"{name}（{where}）"
