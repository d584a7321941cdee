"""Which cases need a person, in which order, and why: the one definition of the review queue.

The review desk of the case page (``layers.queries.case_records.review_queue``) and the
``python -m etl review`` command both read it, so they list the same cases in the same order
with the same reason. A case needs review when its address matched nothing (未匹配), was placed
only on a township or village (乡镇, 村社区), matched with a low score, or when the case ETL
flagged it (coordinates, squad, stage times). Worst first: unmatched, then by score (none first,
lowest next), then newest.
"""

from __future__ import annotations

from collections.abc import Iterable

# Flags a case can carry, with the Chinese label the dashboard and the review queue show.
FLAG_LABELS = {
    "time_unparseable": "时间无法解析",
    "time_order": "环节时间顺序颠倒",
    "time_future": "时间晚于当前",
    "time_missing_stage": "环节时间缺失",
    "coord_invalid": "坐标无效",
    "coord_swapped": "经纬度颠倒",
    "coord_outside_county": "坐标在县外",
    "coord_wgs84_as_gcj02": "坐标疑为WGS-84却标为GCJ-02",
    "coord_address_mismatch": "坐标与地址不符",
    "squad_mismatch": "所属中队与辖区不符",
    "squad_unknown": "所属中队无法识别",
}

UNMATCHED = "未匹配"
COARSE_LEVELS = ("乡镇", "村社区")  # the point stands for a whole township or village
LOW_SCORE = 0.6  # a geocode scored below this is a guess a person should confirm


def review_condition(alias: str = "c") -> str:
    """The SQL condition (on table alias ``alias`` of ``cases``) that a case needs review."""
    levels = ", ".join(f"'{level}'" for level in (UNMATCHED, *COARSE_LEVELS))
    return (
        f"({alias}.geocode_level IN ({levels}) OR {alias}.geocode_score < {LOW_SCORE!r}"
        f" OR cardinality({alias}.flags) > 0)"
    )


def review_order(alias: str = "c") -> str:
    """The SQL ``ORDER BY`` list of the queue, worst first (ends with the id: a total order)."""
    return (
        f"({alias}.geocode_level = '{UNMATCHED}') DESC, {alias}.geocode_score ASC NULLS FIRST,"
        f" {alias}.received_at DESC NULLS LAST, {alias}.id"
    )


def review_reason(
    level: str | None, score: float | None, flags: Iterable[str] | None, geocode_reason: str | None = None
) -> str:
    """Why a case is in the queue, in Chinese; "" for a case that does not need review.

    Parameters
    ----------
    level
        The case's geocode level (``geocode_level``).
    score
        Its geocode score (None or NaN when there is none, e.g. unmatched).
    flags
        Its flag codes (``flags``), shown by their :data:`FLAG_LABELS`.
    geocode_reason
        What the geocoder said about an unmatched address (``attrs.geocode_reason``), if anything.

    Returns
    -------
    str
        The parts joined by "；", e.g. ``"地址未匹配（地址无意义）"``,
        ``"仅定位到乡镇；匹配分数低（0.42）；经纬度颠倒"``.
    """
    parts = []
    if level == UNMATCHED:
        parts.append(f"地址未匹配（{geocode_reason}）" if geocode_reason else "地址未匹配")
    elif level in COARSE_LEVELS:
        parts.append(f"仅定位到{level}")
    if score is not None and score == score and score < LOW_SCORE:
        parts.append(f"匹配分数低（{score:.2f}）")
    labels = [FLAG_LABELS.get(flag, flag) for flag in flags or ()]
    if labels:
        parts.append("、".join(labels))
    return "；".join(parts)
