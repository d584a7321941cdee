"""What a segment is worth patrolling: the layers' analytics turned into one prize per segment.

Evidence is read up to the day before the plan (``as_of``), so a plan never looks at its own day:
Gi* hot segments (the ``hotspots`` layer on segments, last :data:`HOT_DAYS` days), the under-patrolled
ranking (the ``underpatrolled`` layer, last 30 days), open cases needing a return visit (复查: not
closed, on the segment, received in the last :data:`RETURN_DAYS` days) and sanitation problems
(planned sweeping the ``sanitation`` layer saw missed in the last 7 days) and active warnings (预警 open
at the end of ``as_of`` on the segment, severity-weighted by
:data:`layers.queries.warnings.SEVERITY_WEIGHTS`, 0–1).

Recent cases (近期案件): the cases on the segment in the last :data:`HOT_DAYS` days, each weighted by
its age (halved every :data:`RECENT_HALF_LIFE_DAYS` days): the expected cases of the coming days.

prize = (w_hot·hot + w_under·under + w_sanitation·missed + w_warnings·warning) · length / 100 m
        + w_cases · recent cases + w_return · min(open cases, 3)
so a long hot street is worth more than a short one (walking it takes longer too), and a return
visit is worth the same wherever it is. The solver spends walking time, which grows with length, to
collect prize, so the recent-cases term makes it buy expected cases per metre walked: the quantity
the predictive accuracy index (share of cases / share of street length) measures. The other terms
are scores per metre (Gi* class, rank percentiles) that say where, not how many: without it a
street with five cases a week and one with one case rank alike when both are in the same class.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from layers._frames import read_frame
from layers.base import LayerParams
from layers.queries.warnings import segment_warning_scores
from layers.registry import get_layer

HOT_DAYS = 28
UNDER_DAYS = 30
SANITATION_DAYS = 7
RETURN_DAYS = 90
RETURN_CAP = 3
RECENT_HALF_LIFE_DAYS = 7.0
PER_M = 100.0
HOT_CONFIDENCE = {1: "90%", 2: "95%", 3: "99%"}
HOT_REASON = "热点"  # the reason label of a Gi* hot segment (see is_hot_reason)


@dataclass(frozen=True)
class Weights:
    """How much each kind of evidence counts (0 leaves it out)."""

    hot: float = 1.0
    cases: float = 1.0
    under: float = 1.0
    returns: float = 1.0
    sanitation: float = 0.5
    warnings: float = 1.0

    def as_dict(self) -> dict[str, float]:
        """The weights as a plain dict (stored with the plan)."""
        return asdict(self)


def _evidence_end(as_of: dt.date, tz) -> dt.datetime:
    """The instant the evidence stops: the end of ``as_of`` (local)."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tz)


def _open_cases(conn: Connection, segment_ids: list[int], as_of: dt.date, tz) -> pd.Series:
    end = _evidence_end(as_of, tz)
    frame = read_frame(
        conn,
        """SELECT near_segment_id AS segment_id, count(*) AS n FROM cases
           WHERE near_segment_id = ANY(:ids) AND received_at >= :start AND received_at < :end
             AND (closed_at IS NULL OR closed_at >= :end)
           GROUP BY near_segment_id""",
        {"ids": segment_ids, "start": end - dt.timedelta(days=RETURN_DAYS), "end": end},
    )
    return frame.set_index("segment_id")["n"].astype(float).reindex(segment_ids, fill_value=0.0)


def _recent_cases(conn: Connection, segment_ids: list[int], as_of: dt.date, tz) -> pd.Series:
    """Per segment: its cases of the last HOT_DAYS days, each weighted 0.5 ** (age / half-life)."""
    end = _evidence_end(as_of, tz)
    frame = read_frame(
        conn,
        """SELECT near_segment_id AS segment_id,
                  sum(power(0.5, extract(epoch FROM (:end - received_at)) / 86400.0 / :half)) AS n
           FROM cases WHERE near_segment_id = ANY(:ids) AND received_at >= :start AND received_at < :end
           GROUP BY near_segment_id""",
        {"ids": segment_ids, "start": end - dt.timedelta(days=HOT_DAYS), "end": end, "half": RECENT_HALF_LIFE_DAYS},
    )
    return frame.set_index("segment_id")["n"].astype(float).reindex(segment_ids, fill_value=0.0)


def segment_prizes(conn: Connection, squad_code: str, as_of: dt.date, weights: Weights, tz) -> pd.DataFrame:
    """The squad's segments with their evidence and prize.

    Returns
    -------
    pandas.DataFrame
        ``segment_id``, ``segment_key``, ``name``, ``length_m``, ``hot`` (Gi* class / 3, 0 when not
        hot), ``hot_class``, ``under`` (ranking score, 0–1), ``returns`` (open cases), ``sanitation``
        (1 when missed), ``warnings``, ``prize`` and ``reasons`` (Chinese labels of what counted).
    """
    squads = (squad_code,)
    hot = get_layer("hotspots").data(
        conn,
        LayerParams(
            start=as_of - dt.timedelta(days=HOT_DAYS - 1), end=as_of, squads=squads, options={"unit": "segment"}
        ),
    )
    frame = hot[["segment_id", "segment_key", "name", "length_m", "cls"]].rename(columns={"cls": "hot_class"})
    frame["hot"] = np.clip(frame["hot_class"].to_numpy(float), 0, 3) / 3.0
    ids = frame["segment_id"].astype(int).tolist()
    if weights.under:
        under = get_layer("underpatrolled").data(
            conn, LayerParams(start=as_of - dt.timedelta(days=UNDER_DAYS - 1), end=as_of, squads=squads)
        )
        score = under.set_index("segment_id")["score"].clip(lower=0).fillna(0.0)
        frame["under"] = frame["segment_id"].map(score).fillna(0.0).to_numpy(float)
    else:
        frame["under"] = 0.0
    frame["recent"] = _recent_cases(conn, ids, as_of, tz).to_numpy() if weights.cases else 0.0
    frame["returns"] = _open_cases(conn, ids, as_of, tz).to_numpy() if weights.returns else 0.0
    if weights.sanitation:
        sanitation = get_layer("sanitation").data(
            conn, LayerParams(start=as_of - dt.timedelta(days=SANITATION_DAYS - 1), end=as_of, squads=squads)
        )
        missed = set(sanitation.loc[sanitation["status"] == "missed", "segment_id"]) if len(sanitation) else set()
        frame["sanitation"] = frame["segment_id"].isin(missed).astype(float)
    else:
        frame["sanitation"] = 0.0
    if weights.warnings:
        frame["warnings"] = segment_warning_scores(conn, ids, _evidence_end(as_of, tz)).to_numpy(float)
    else:
        frame["warnings"] = 0.0
    per_length = (
        weights.hot * frame["hot"]
        + weights.under * frame["under"]
        + weights.sanitation * frame["sanitation"]
        + weights.warnings * frame["warnings"]
    ) * (frame["length_m"].astype(float) / PER_M)
    frame["prize"] = (
        per_length + weights.cases * frame["recent"] + weights.returns * np.minimum(frame["returns"], RETURN_CAP)
    )
    frame["reasons"] = [_reasons(row) for row in frame.itertuples()]
    return frame.reset_index(drop=True)


def _reasons(row) -> list[str]:
    out = []
    if row.hot > 0:
        out.append(f"{HOT_REASON}（置信度 {HOT_CONFIDENCE[int(row.hot_class)]}）")
    if row.recent >= 0.5:
        out.append(f"近期案件（加权 {row.recent:.1f} 件）")
    if row.under > 0:
        out.append("案件多、巡查少")
    if row.returns > 0:
        out.append(f"待复查案件 {int(row.returns)} 件")
    if row.sanitation > 0:
        out.append("环卫计划未作业")
    if row.warnings > 0:
        out.append("预警")
    return out


def is_hot_reason(reasons: list[str]) -> bool:
    """True when a stop's stored reasons say its segment was a Gi* hot segment."""
    return any(r.startswith(HOT_REASON) for r in reasons)
