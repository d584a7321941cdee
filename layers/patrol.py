"""Patrol coverage of the street chiefs (街路长) and "hot but under-patrolled" segments."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._filters import allowed_squads, window_days
from layers._frames import read_frame
from layers._geometry import line_trace, round_coords, segment_trace
from layers._privacy import mask_name
from layers._segment_labels import segment_labels
from layers._segments import cases_per_segment
from layers._style import MUTED, PATROL_RECENCY_COLORS, UNDERPATROLLED
from layers._visits import DEFAULT_SHIFTS, coverage_series, visit_totals, visited_periods, weekly
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register
from layers.stats.trend import elapsed_share
from layers.streets import read_segments

DEFAULT_DAYS = 7
HOVER_LIMIT = 5000  # per-segment hover markers above this many segments would make the figure too heavy
RECENCY_CLASSES = (
    (1, "1天内巡查", PATROL_RECENCY_COLORS[0]),
    (3, "3天内巡查", PATROL_RECENCY_COLORS[1]),
    (7, "7天内巡查", PATROL_RECENCY_COLORS[2]),
    (None, "超过7天或未巡查", PATROL_RECENCY_COLORS[3]),
)


def _window(params: LayerParams, tz) -> tuple[list[dt.date], tuple[dt.datetime, dt.datetime]]:
    end = params.end or dt.datetime.now(tz).date()
    start = params.start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    days = window_days(LayerParams(start=start, end=end), tz)
    bounds = (dt.datetime.combine(start, dt.time(), tz), dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz))
    return days, bounds


def _chief_members(conn: Connection, params: LayerParams, segment_ids: list[int]) -> pd.DataFrame:
    sql = """SELECT sc.code AS chief_code, sc.name AS chief_name, sc.squad_code, cs.segment_id
             FROM chief_segments cs JOIN street_chiefs sc ON sc.id = cs.chief_id
             JOIN unnest(CAST(:ids AS integer[])) AS sel(id) ON sel.id = cs.segment_id
             WHERE sc.active"""
    frame = read_frame(conn, sql, {"ids": segment_ids})
    squads = allowed_squads(params)
    if squads is not None:
        frame = frame[frame["squad_code"].isin(squads)]
    if params.scope.chief_code is not None:
        frame = frame[frame["chief_code"] == params.scope.chief_code]
    return frame


def patrol_coverage(conn: Connection, params: LayerParams) -> pd.DataFrame:
    """Segments in scope with their patrol figures; per-chief and per-squad coverage in ``attrs``.

    Columns: segment fields, ``visits``, ``dwell_min``, ``last_visit``, ``days_since`` (days from the
    last visit to the window's end, NaN when never), ``days_covered`` (days with a visit in the window).
    ``attrs``: ``by_chief``, ``by_squad`` (mean share of length visited per period), ``daily_*`` (with
    ``elapsed``, the share of each day passed at ``as_of``: below 1 for today) and ``weekly_*`` (the
    trends), ``period`` (``day`` or ``shift``), ``as_of`` (when the figures were read).
    """
    region = get_region()
    now = dt.datetime.now(region.tz)
    days, bounds = _window(params, region.tz)
    shifts = params.options.get("shifts", DEFAULT_SHIFTS) if params.options.get("period") == "shift" else None
    segments = read_segments(conn, params).reset_index(drop=True)
    ids = segments["segment_id"].astype(int).tolist()
    totals = visit_totals(conn, "patrol", ids, bounds)
    segments = segments.merge(totals, on="segment_id", how="left")
    age = (bounds[1] - segments["last_visit"]).dt.total_seconds() / 86400.0
    segments["days_since"] = age.astype(float)
    periods = visited_periods(conn, "patrol", ids, bounds, region.tz, shifts)
    per_day = periods.groupby("segment_id")["day"].nunique()
    segments["days_covered"] = segments["segment_id"].map(per_day).fillna(0).astype(int)

    lengths = segments.set_index("segment_id")["length_m"].astype(float)
    n_shifts = len(shifts) if shifts else 0
    chiefs = _chief_members(conn, params, ids)
    squads = segments.loc[segments["squad_code"].notna(), ["squad_code", "segment_id"]]
    tables = {}
    for name, groups, labels in (
        ("chief", chiefs.rename(columns={"chief_code": "group"}), chiefs),
        ("squad", squads.rename(columns={"squad_code": "group"}), None),
    ):
        series = coverage_series(groups[["group", "segment_id"]], lengths, periods, days, n_shifts)
        table = series.groupby("group", as_index=False).agg(share=("share", "mean"), total_m=("total_m", "first"))
        if labels is not None and len(labels):
            names = labels.drop_duplicates("chief_code").set_index("chief_code")
            table["name"] = table["group"].map(names["chief_name"])
            if params.scope.aggregates_only:  # the wall display shows no person's name
                table["name"] = table["name"].map(mask_name)
            table["squad_code"] = table["group"].map(names["squad_code"])
        daily = series.groupby(["group", "day"], as_index=False)["share"].mean()
        daily["elapsed"] = elapsed_share(daily["day"], now)  # today is partial, not a day of zero
        tables[name] = (table, daily, weekly(daily))
    segments.attrs.update(
        by_chief=tables["chief"][0],
        by_squad=tables["squad"][0],
        daily_chief=tables["chief"][1],
        daily_squad=tables["squad"][1],
        weekly_chief=tables["chief"][2],
        weekly_squad=tables["squad"][2],
        period="shift" if shifts else "day",
        days=len(days),
        as_of=now,
    )
    return segments


SELECTED_COLOR = "#1f4e79"  # the halo under a street the chief tapped: no patrol class is blue


def street_names(segments: pd.DataFrame) -> pd.Series:
    """The street each segment is listed under for its chief: its name, or its key when it has none."""
    return segments["name"].where(segments["name"].notna(), segments["segment_key"])


def selected_street(
    segments: pd.DataFrame, street: str
) -> tuple[tuple[float, float, float, float], go.Scattermap] | None:
    """The extent (WGS-84) of ``street`` (a name of :func:`streets_by_recency`) and a wide halo drawing it.

    Returns None when no segment of ``segments`` is listed under that name.
    """
    part = segments[street_names(segments) == street] if len(segments) else segments
    if part.empty:
        return None
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(np.asarray(part.geometry)))
    halo = line_trace(part.geometry, color=SELECTED_COLOR, width=11, name="所选街路", hover=False)
    halo.opacity = 0.45
    return (xmin, ymin, xmax, ymax), halo


def streets_by_recency(segments: pd.DataFrame) -> pd.DataFrame:
    """The streets of :func:`patrol_coverage`'s segments, the one waiting longest for a patrol first.

    Segments are grouped by street name (unnamed ones stand alone under their key). A street's last
    patrol is that of its least recently patrolled segment: it needs a patrol while any part of it
    waits. Streets with a segment not patrolled within the lookback come first, then the oldest last
    patrol; ties by name.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``segments``, ``never`` (segments without a patrol in the lookback), ``last_visit``
        (aware, NaT when some segment was never patrolled), ``xmin``, ``ymin``, ``xmax``, ``ymax``
        (the street's extent, WGS-84).
    """
    columns = ["name", "segments", "never", "last_visit", "xmin", "ymin", "xmax", "ymax"]
    if segments.empty:
        return pd.DataFrame(columns=columns)
    box = shapely.bounds(np.asarray(segments.geometry))
    frame = pd.DataFrame(
        {
            "name": street_names(segments).to_numpy(),
            "never": segments["last_visit"].isna().to_numpy(),
            "last_visit": segments["last_visit"].to_numpy(),
            "xmin": box[:, 0],
            "ymin": box[:, 1],
            "xmax": box[:, 2],
            "ymax": box[:, 3],
        }
    )
    streets = frame.groupby("name", as_index=False, sort=False).agg(
        segments=("never", "size"),
        never=("never", "sum"),
        last_visit=("last_visit", "min"),
        xmin=("xmin", "min"),
        ymin=("ymin", "min"),
        xmax=("xmax", "max"),
        ymax=("ymax", "max"),
    )
    streets["last_visit"] = streets["last_visit"].where(streets["never"] == 0)
    streets = streets.assign(waiting=streets["never"] == 0).sort_values(
        ["waiting", "last_visit", "name"], na_position="first", kind="stable"
    )
    return streets[columns].reset_index(drop=True)


def _recency_class(days_since: pd.Series) -> np.ndarray:
    values = days_since.to_numpy(dtype=float)
    out = np.full(len(values), len(RECENCY_CLASSES) - 1)
    for i, (limit, _, _) in reversed(list(enumerate(RECENCY_CLASSES[:-1]))):
        out[np.nan_to_num(values, nan=np.inf) <= limit] = i
    return out


def _segment_hover(data: pd.DataFrame, lines: list[str]) -> go.Scattermap:
    mid = shapely.line_interpolate_point(np.asarray(data.geometry), 0.5, normalized=True)
    return go.Scattermap(
        lon=round_coords(shapely.get_x(mid)),
        lat=round_coords(shapely.get_y(mid)),
        mode="markers",
        marker={"size": 6, "color": MUTED, "opacity": 0.01},
        hovertext=lines,
        hoverinfo="text",
        customdata=data["segment_id"],
        showlegend=False,
        name="路段信息",
    )


@register
class PatrolCoverageLayer(Layer):
    """Street segments coloured by days since the last patrol; coverage by chief and squad in the summary.

    Options: ``period`` (``day`` default, or ``shift``), ``shifts`` (local hour ranges), ``chief``.
    """

    name = "patrol_coverage"
    title = "街路长巡查覆盖"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        return patrol_coverage(conn, params)

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        classes = _recency_class(data["days_since"]) if len(data) else np.array([], int)
        traces = []
        legend = []
        for i, (_, label, color) in enumerate(RECENCY_CLASSES):
            part = data[classes == i]
            legend.append(LegendItem(label, color))
            if len(part) == 0:
                continue
            traces.append(segment_trace(part["segment_id"], color=color, width=3, name=label))
        if 0 < len(data) <= int(params.options.get("max_hover_segments", HOVER_LIMIT)):
            tz = get_region().tz
            last = data["last_visit"].dt.tz_convert(tz).dt.strftime("%m-%d %H:%M").fillna("无")
            hover = [
                f"{n or '未命名路段'}<br>最近巡查：{lv}<br>巡查 {v} 次，停留 {d:.0f} 分钟"
                for n, lv, v, d in zip(data["name"], last, data["visits"], data["dwell_min"], strict=True)
            ]
            traces.append(_segment_hover(data, hover))
        total = float(data["length_m"].sum()) if len(data) else 0.0
        visited = float(data.loc[data["visits"] > 0, "length_m"].sum()) if len(data) else 0.0
        by_chief = data.attrs.get("by_chief", pd.DataFrame())
        by_squad = data.attrs.get("by_squad", pd.DataFrame())
        mean_share = "mean_shift_share" if data.attrs.get("period") == "shift" else "mean_daily_share"
        summary = {
            "segments": len(data),
            "coverage_share": round(visited / total, 4) if total else 0.0,
            mean_share: round(float(by_squad["share"].mean()), 4) if len(by_squad) else 0.0,
            "by_chief": by_chief.round(4).to_dict("records"),
            "by_squad": by_squad.round(4).to_dict("records"),
        }
        return LayerResult(traces=traces, legend=legend, summary=summary, data=data)


@register
class UnderpatrolledLayer(Layer):
    """Segments ranked by case intensity against patrol dwell ("hot but under-patrolled").

    score = percentile rank of cases per km − percentile rank of patrol minutes per km, among
    segments with at least ``min_cases`` cases; the ``top`` (default 20) are drawn, numbered.
    """

    name = "underpatrolled"
    title = "案件多、巡查少的路段"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        region = get_region()
        end = params.end or dt.datetime.now(region.tz).date()
        start = params.start or end - dt.timedelta(days=29)
        window = replace(params, start=start, end=end)
        _, bounds = _window(window, region.tz)
        segments = read_segments(conn, window).reset_index(drop=True)
        ids = segments["segment_id"].astype(int).tolist()
        segments["cases"] = cases_per_segment(conn, window, segments).to_numpy()
        segments = segments.merge(visit_totals(conn, "patrol", ids, bounds, 0), on="segment_id", how="left")
        km = np.maximum(segments["length_m"].to_numpy(float) / 1000.0, 0.05)  # floor: 50 m
        segments["cases_per_km"] = segments["cases"] / km
        segments["dwell_per_km"] = segments["dwell_min"] / km
        candidates = segments["cases"] >= int(params.options.get("min_cases", 1))
        ranked = segments[candidates]
        score = ranked["cases_per_km"].rank(pct=True) - ranked["dwell_per_km"].rank(pct=True)
        segments["score"] = score.reindex(segments.index)
        segments = segments.sort_values(["score", "cases_per_km"], ascending=False, na_position="last")
        segments["rank"] = np.where(segments["score"].notna(), np.arange(1, len(segments) + 1), np.nan)
        segments = segments.reset_index(drop=True)
        ranked_ids = segments.loc[segments["rank"].notna(), "segment_id"].astype(int).tolist()
        names = segment_labels(conn, ranked_ids, mask_chiefs=params.scope.aggregates_only)
        segments["label"] = segments["segment_id"].map(names["label"])
        segments["chief"] = segments["segment_id"].map(names["chief"])
        return segments

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        top = data[data["rank"] <= int(params.options.get("top", 20))]
        traces = []
        if len(top):
            traces.append(segment_trace(top["segment_id"], color=UNDERPATROLLED, width=5, name="重点路段"))
            hover = [
                f"第{int(r)}名 {n}<br>案件 {c:.0f} 件（每公里 {cpk:.1f}）<br>巡查停留 {d:.0f} 分钟"
                for r, n, c, cpk, d in zip(
                    top["rank"], top["label"], top["cases"], top["cases_per_km"], top["dwell_min"], strict=True
                )
            ]
            marker = _segment_hover(top, hover)
            marker.update(
                mode="markers+text",
                text=[str(int(r)) for r in top["rank"]],
                marker={"opacity": 0.9, "size": 14, "color": UNDERPATROLLED},
                textfont={"color": "#ffffff"},
            )
            traces.append(marker)
        columns = ["rank", "segment_id", "name", "label", "chief", "squad_code", "cases", "cases_per_km", "dwell_min"]
        rows = top[[*columns, "score"]]
        return LayerResult(
            traces=traces,
            legend=[LegendItem("案件多、巡查少", UNDERPATROLLED)],
            summary={"ranked_segments": rows.round(3).to_dict("records")},
            data=data,
            notes=["排名 = 每公里案件数的百分位 − 每公里巡查停留时间的百分位"],
        )
