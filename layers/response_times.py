"""Response times per squad and category, 按期办结率 (denominator: cases due in the window), squad choropleth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from sqlalchemy.engine import Connection

from geo.region import get_region
from geo.time_limits import lookback_days
from layers._filters import case_where, squad_where, window_bounds
from layers._frames import epoch, from_epoch, read_frame, read_geoframe
from layers._geometry import feature_collection, simplified_wkb
from layers._style import BAD, GOOD, SEQUENTIAL, WARN
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register
from layers.stats.response_time import (
    ARRIVAL_LABEL,
    ARRIVAL_METRIC,
    STAGES,
    STATS,
    calendar_note,
    due_times,
    stage_hours,
    summarise,
    uncovered_years,
    working_days_taken,
)

DEFAULT_DAYS = 30
METRICS = {f"{s}_{k}": f"{label}{STATS[k]}（小时）" for s, (_, _, label) in STAGES.items() for k in STATS}
METRICS.update(
    {
        "working_days_median": "办结用时中位数（工作日，限以工作日计期限的案件）",
        "working_days_p90": "办结用时P90（工作日，限以工作日计期限的案件）",
        "on_time_rate": "按期办结率",
        "cases": "案件数",
        ARRIVAL_METRIC: ARRIVAL_LABEL,
    }
)
HIGHER_IS_BETTER = {"on_time_rate"}
# Green up to the 到场时限, yellow at it, red at twice it and beyond (zmin 0, zmax twice the limit).
ARRIVAL_SCALE = [[0.0, GOOD], [0.5, WARN], [1.0, BAD]]


def arrival_range() -> tuple[float, float]:
    """``(zmin, zmax)`` of the :data:`ARRIVAL_SCALE`: 0 to twice the region's 到场时限 (minutes)."""
    return 0.0, 2.0 * get_region().arrive_limit_min


def arrival_colour(minutes: float | None) -> str | None:
    """The colour the map gives a squad whose :data:`ARRIVAL_METRIC` is ``minutes`` (None: no data).

    The wall's squad list uses it, so a squad has the same colour in the list as on the map.
    """
    if minutes is None or minutes != minutes:
        return None
    low, high = arrival_range()
    position = min(max((float(minutes) - low) / (high - low), 0.0), 1.0)
    return sample_colorscale(ARRIVAL_SCALE, [position], colortype="rgb")[0]


def arrival_band(minutes: float | None) -> str:
    """``good`` within the 到场时限, ``mid`` up to twice it, ``bad`` beyond, ``none`` without data."""
    if minutes is None or minutes != minutes:
        return "none"
    limit = get_region().arrive_limit_min
    return "good" if minutes <= limit else "mid" if minutes <= 2 * limit else "bad"


def case_times(conn: Connection, params: LayerParams, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """Cases received in the window or falling due in it, with stage hours, due time and on-time flags."""
    region = get_region()
    tz = region.tz
    end = params.end or dt.datetime.now(tz).date()
    start = params.start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    lower, upper = window_bounds(LayerParams(start=start, end=end), tz)
    where = case_where(params, tz, "c", time_column=None)
    early = lower - dt.timedelta(days=lookback_days(region))
    stamps = ("received_at", "dispatched_at", "arrived_at", "closed_at", "due_at")
    sql = f"""SELECT c.id, c.squad_code, c.category, c.procedure_type, {", ".join(epoch(f"c.{s}", s) for s in stamps)}
              FROM cases c
              WHERE {where.sql()} AND c.received_at IS NOT NULL
                AND ((c.received_at >= :early AND c.received_at < :upper)
                     OR (c.due_at >= :lower AND c.due_at < :upper))"""
    frame = read_frame(conn, sql, {**where.binds, "early": early, "lower": lower, "upper": upper})
    for column in stamps:
        frame[column] = from_epoch(frame[column])
    frame["due"] = due_times(frame, region) if len(frame) else pd.Series(dtype="datetime64[ns, UTC]")
    frame = pd.concat([frame, stage_hours(frame)], axis=1)
    frame["working_days"] = working_days_taken(frame, region) if len(frame) else pd.Series(dtype=float)
    now = pd.Timestamp(as_of or dt.datetime.now(dt.UTC))
    frame["received_in_window"] = (frame["received_at"] >= lower) & (frame["received_at"] < upper)
    # A due time belongs to the day it falls in (a day limit ends at 23:59:59.999999 of its last day).
    frame["due_in_window"] = (frame["due"] >= lower) & (frame["due"] < upper)
    closed = frame["closed_at"].notna()
    frame["on_time"] = closed & (frame["closed_at"] <= frame["due"])
    # Decided: closed, or still open after its due time (late). Open cases not yet due are left out.
    frame["decided"] = closed | (frame["due"] <= now)
    frame["category"] = frame["category"].fillna("未分类")
    frame["squad_code"] = frame["squad_code"].fillna("未划分")
    return frame


@register
class ResponseTimesLayer(Layer):
    """Choropleth of the squads on one response metric (``params.metric``, default ``on_time_rate``).

    Metrics: ``{dispatch,arrive,close,total}_{median,p90}`` in hours, ``on_time_rate``, ``cases``.
    Tables per squad and per category are in ``data.attrs``.
    """

    name = "response_times"
    title = "响应时效"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        as_of = params.options.get("as_of")
        cases = case_times(conn, params, as_of)
        by_squad = summarise(cases, "squad_code")
        by_category = summarise(cases, "category")
        squads = squad_where(params, "j.squad_code")
        tolerance = float(params.options.get("simplify_deg", 1e-4))
        sql = f"""SELECT j.squad_code, COALESCE(q.name, j.name, j.squad_code) AS squad_name,
                         {simplified_wkb("j.geom", tolerance)} AS wkb
                  FROM jurisdictions j LEFT JOIN squads q ON q.code = j.squad_code
                  WHERE j.is_current AND {squads.sql()} ORDER BY j.squad_code"""
        shapes = read_geoframe(conn, sql, squads.binds)
        out = shapes.merge(by_squad, on="squad_code", how="left")
        out[["cases", "due", "on_time"]] = out[["cases", "due", "on_time"]].fillna(0).astype(int)
        out.attrs.update(by_squad=by_squad, by_category=by_category, calendar_note=case_calendar_note(cases))
        return out

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        metric = params.metric or "on_time_rate"
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)}, not {metric!r}")
        values = data[metric].astype(float)
        scale = SEQUENTIAL
        if metric in HIGHER_IS_BETTER:  # red = bad either way
            scale = [[p, c] for (p, _), (_, c) in zip(SEQUENTIAL, reversed(SEQUENTIAL), strict=True)]
        codes = list(data["squad_code"])
        shown = values.round(4 if metric == "on_time_rate" else 2)
        colorbar: dict = {"title": {"text": METRICS[metric]}, "tickformat": ".0%" if metric == "on_time_rate" else ""}
        bounds: dict = {}
        if metric == ARRIVAL_METRIC:  # a fixed scale around the 到场时限, the same on every refresh
            scale = ARRIVAL_SCALE
            low, high = arrival_range()
            limit = get_region().arrive_limit_min
            bounds = {"zmin": low, "zmax": high}
            colorbar.update(
                tickvals=[low, limit, high], ticktext=["0", f"时限 {limit:.0f}", f"≥{high:.0f}"], tickformat=""
            )
        trace = go.Choroplethmap(
            geojson=feature_collection(codes, list(data.geometry)),
            locations=codes,
            z=shown.astype(object).where(shown.notna(), None),  # no data: left unfilled, not shown as 0
            colorscale=scale,
            marker={"opacity": 0.7, "line": {"width": 1.5, "color": "#ffffff"}},
            colorbar=colorbar,
            **bounds,
            text=list(data["squad_name"]),
            customdata=np.stack([data["cases"], data["due"], data["on_time"]], axis=-1),
            hovertemplate=(
                "%{text}<br>" + METRICS[metric] + "：%{z}<br>受理 %{customdata[0]} 件；到期 %{customdata[1]} 件，"
                "按期 %{customdata[2]} 件<extra></extra>"
            ),
            name=METRICS[metric],
        )
        by_squad = data.attrs.get("by_squad", pd.DataFrame())
        by_category = data.attrs.get("by_category", pd.DataFrame())
        due = int(by_squad["due"].sum()) if len(by_squad) else 0
        on_time = int(by_squad["on_time"].sum()) if len(by_squad) else 0
        calendar = data.attrs.get("calendar_note")
        summary = {
            "calendar_note": calendar,
            "metric": metric,
            "cases_due": due,
            "closed_on_time": on_time,
            "on_time_rate": round(on_time / due, 4) if due else None,
            "by_squad": by_squad.round(3).to_dict("records"),
            "by_category": by_category.round(3).to_dict("records"),
        }
        return LayerResult(
            traces=[trace],
            legend=[LegendItem(METRICS[metric], SEQUENTIAL[-1][1])],
            summary=summary,
            data=data,
            notes=[
                "按期办结率 = 期限落在所选时段内的案件中按期办结的比例；以工作日计的期限按节假日和调休日历计算",
                *([calendar] if calendar else []),
            ],
        )


def case_calendar_note(cases: pd.DataFrame) -> str | None:
    """The note for cases (``received_at``, ``procedure_type``, ``category``, ``due_at``) whose due times
    were counted in a year the region's holiday calendar does not list, e.g.
    ``2027年节假日安排尚未录入，到期时间按周末计算``; None when every year is listed."""
    return calendar_note(uncovered_years(cases, get_region()))
