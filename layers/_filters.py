"""SQL conditions built from layer parameters: the time window, squads, categories and the user's scope.

Every data step that reads cases or segments builds its WHERE clause here, so the scope
(squads, street chief) is applied the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from layers.base import LayerParams


@dataclass
class Where:
    """A list of SQL conditions joined by AND, with their bound parameters."""

    conditions: list[str] = field(default_factory=list)
    binds: dict[str, Any] = field(default_factory=dict)

    def add(self, condition: str, **binds: Any) -> Where:
        """Add one condition and its parameters; returns ``self``."""
        self.conditions.append(condition)
        self.binds.update(binds)
        return self

    def sql(self) -> str:
        """The conditions as one SQL expression (``TRUE`` when there are none)."""
        return " AND ".join(f"({c})" for c in self.conditions) or "TRUE"


def window_bounds(params: LayerParams, tz: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The window as aware datetimes: local midnight of ``start`` and of the day after ``end`` (exclusive)."""
    start = dt.datetime.combine(params.start, dt.time(), tz) if params.start else None
    end = dt.datetime.combine(params.end + dt.timedelta(days=1), dt.time(), tz) if params.end else None
    return start, end


def window_days(params: LayerParams, tz: ZoneInfo, fallback_end: dt.date | None = None) -> list[dt.date]:
    """Every local date of the window (needs ``start``; ``end`` defaults to ``fallback_end`` or today)."""
    end = params.end or fallback_end or dt.datetime.now(tz).date()
    start = params.start or end
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def allowed_squads(params: LayerParams) -> tuple[str, ...] | None:
    """Squads the request may read: the requested ones within the scope; None means every squad."""
    requested = tuple(params.squads) or None
    scoped = params.scope.squads
    if scoped is None:
        return requested
    if requested is None:
        return tuple(scoped)
    return tuple(s for s in requested if s in scoped)


_CHIEF_SEGMENTS = (
    "SELECT cs.segment_id FROM chief_segments cs JOIN street_chiefs sc ON sc.id = cs.chief_id"
    " WHERE sc.code = :chief_code"
)


def case_where(
    params: LayerParams,
    tz: ZoneInfo,
    alias: str = "c",
    *,
    time_column: str | None = "received_at",
    bounds: tuple[dt.datetime | None, dt.datetime | None] | None = None,
) -> Where:
    """Conditions on cases: window on ``time_column``, squads, categories, procedure types, scope.

    Parameters
    ----------
    params
        The layer parameters (their ``scope`` is always applied).
    tz
        The region's time zone (the window's dates are local).
    alias
        Alias of the cases table in the query.
    time_column
        Column the window applies to; None applies no window.
    bounds
        Explicit window bounds instead of the ones of ``params``.
    """
    where = Where()
    start, end = bounds if bounds is not None else window_bounds(params, tz)
    if time_column:
        if start is not None:
            where.add(f"{alias}.{time_column} >= :w_start", w_start=start)
        if end is not None:
            where.add(f"{alias}.{time_column} < :w_end", w_end=end)
    squads = allowed_squads(params)
    if squads is not None:
        where.add(f"{alias}.squad_code = ANY(:squads)", squads=list(squads))
    if params.categories:
        where.add(
            f"{alias}.category = ANY(:categories) OR {alias}.domain = ANY(:categories)",
            categories=list(params.categories),
        )
    if params.procedure_types:
        where.add(f"{alias}.procedure_type = ANY(:procedure_types)", procedure_types=list(params.procedure_types))
    if params.scope.chief_code is not None:
        # a chief's cases: those counted on their segments (geo/case_segments.py)
        where.add(f"{alias}.near_segment_id IN ({_CHIEF_SEGMENTS})", chief_code=params.scope.chief_code)
    return where


def segment_where(params: LayerParams, alias: str = "s", *, squads_on_segment: bool = True) -> Where:
    """Conditions on street segments: squads (segment's squad, unless ``squads_on_segment`` is False) and chief."""
    where = Where()
    squads = allowed_squads(params)
    if squads is not None and squads_on_segment:
        where.add(f"{alias}.squad_code = ANY(:squads)", squads=list(squads))
    chief = params.scope.chief_code or params.options.get("chief")
    if params.scope.chief_code is not None:
        where.add(f"{alias}.id IN ({_CHIEF_SEGMENTS})", chief_code=params.scope.chief_code)
    elif chief:
        where.add(f"{alias}.id IN ({_CHIEF_SEGMENTS})", chief_code=str(chief))
    return where


def squad_where(params: LayerParams, column: str) -> Where:
    """Condition restricting a squad-code column to the allowed squads."""
    where = Where()
    squads = allowed_squads(params)
    if squads is not None:
        where.add(f"{column} = ANY(:squads)", squads=list(squads))
    return where
