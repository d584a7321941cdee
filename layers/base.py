"""The one shape every layer has: parameters → data step (SQL, returns a DataFrame) → build step
(plotly MapLibre traces, a legend, summary numbers).

Only :meth:`Layer.data` runs SQL. Access restrictions travel inside the parameters
(:class:`Scope`) and are applied by the data step itself, so a hand-crafted request cannot
read what its scope does not allow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd
from plotly.basedatatypes import BaseTraceType
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Scope:
    """What the requesting user may read.

    ``squads`` None means every squad; an empty tuple means none. ``chief_code`` restricts to
    one street chief's streets and the cases on them. ``aggregates_only`` allows county-wide
    aggregates but no case-level rows. ``personal_data`` allows unmasked names, phones and IDs.
    """

    squads: tuple[str, ...] | None = None
    chief_code: str | None = None
    aggregates_only: bool = False
    personal_data: bool = False

    @classmethod
    def everything(cls) -> Scope:
        """Full access (admin, ETL, tests)."""
        return cls(personal_data=True)


@dataclass(frozen=True)
class LayerParams:
    """Parameters of every layer; a layer ignores the ones it does not use.

    Dates are local dates of the region's time zone; ``end`` is inclusive.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    squads: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    procedure_types: tuple[str, ...] = ()
    resolution: int | None = None
    metric: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)


@dataclass(frozen=True)
class LegendItem:
    """One legend entry: a colour and its Chinese label."""

    label: str
    color: str


# The Chinese label of every key a layer puts in ``LayerResult.summary``: the keys are identifiers,
# the labels are presentation. Whatever shows a summary figure to a user names it from here.
SUMMARY_LABELS: dict[str, str] = {
    "area_km2": "面积（km²）",
    "approximate_boundaries": "近似边界数",
    "by_category": "按类别",
    "by_chief": "按街路长",
    "by_route": "按路线",
    "by_squad": "按中队",
    "calendar_note": "日历提示",
    "cases": "案件数",
    "cases_due": "到期案件数",
    "cells": "网格数",
    "closed_on_time": "按期办结数",
    "cold_spots": "冷点数",
    "coverage_share": "巡查覆盖率（按长度）",
    "covered_km": "已作业里程（km）",
    "hot_spots": "热点数",
    "hot_spots_99": "99%热点数",
    "jurisdiction_area_km2": "辖区面积（km²）",
    "length_km": "总长（km）",
    "mean_daily_share": "平均每日覆盖率",
    "mean_shift_share": "平均每班次覆盖率",
    "metric": "指标",
    "officers": "在编人数",
    "on_time_rate": "按期办结率",
    "patterns": "新兴热点类型",
    "planned_km": "计划里程（km）",
    "planned_share": "计划覆盖率",
    "ranked_segments": "重点路段",
    "segments": "路段数",
    "squads": "中队数",
    "stations": "驻地数",
    "top5": "前五",
    "townships": "乡镇数",
    "weeks": "周数",
}


@dataclass
class LayerResult:
    """What a layer gives the dashboard: traces to draw, a legend, summary numbers, and the data.

    ``summary`` is keyed by identifiers (English snake_case); :data:`SUMMARY_LABELS` gives each its
    Chinese label.
    """

    traces: list[BaseTraceType]
    legend: list[LegendItem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    data: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "乡镇边界为近似" shown under the map


class Layer:
    """Base class of layers. Subclasses set ``name`` and ``title`` and implement both steps."""

    name: ClassVar[str]
    title: ClassVar[str]  # Chinese, shown to users

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        """Run the SQL for ``params`` (respecting ``params.scope``) and return a (Geo)DataFrame."""
        raise NotImplementedError

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        """Turn the data into MapLibre traces (Scattermap, Choroplethmap, Densitymap), legend, summary."""
        raise NotImplementedError
