"""Sanitation coverage: segments on planned sweeping routes against segments covered by vehicle GPS in the window."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._filters import allowed_squads, segment_where, window_days
from layers._frames import read_frame, read_geoframe
from layers._geometry import line_trace, simplified_wkb
from layers._style import MUTED, SANITATION_DONE, SANITATION_MISSED
from layers._visits import coverage_series, visited_periods
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register

DEFAULT_DAYS = 7
STATUSES = {
    "covered": ("计划内已作业", SANITATION_DONE),
    "missed": ("计划内未作业", SANITATION_MISSED),
    "unplanned": ("计划外作业", MUTED),
}


def _coverage_table(
    plan: pd.DataFrame, key: str, lengths: pd.Series, periods: pd.DataFrame, days: list[dt.date]
) -> pd.DataFrame:
    """Planned km, covered km (and by the route's own vehicle), share and mean daily share per ``key``."""
    members = plan.drop_duplicates([key, "segment_id"])
    length = members["length_m"].to_numpy(float) / 1000
    frame = pd.DataFrame(
        {
            key: members[key].to_numpy(),
            "planned_km": length,
            "covered_km": length * members["covered"].to_numpy(),
            "covered_own_km": length * members["covered_own"].to_numpy(),
        }
    )
    out = frame.groupby(key).sum()
    if key != "route_code":
        out = out.drop(columns="covered_own_km")
    planned = out["planned_km"].where(out["planned_km"] > 0)
    out["share"] = (out["covered_km"] / planned).fillna(0.0)
    series = coverage_series(members.rename(columns={key: "group"})[["group", "segment_id"]], lengths, periods, days)
    out["daily_share"] = series.groupby("group")["share"].mean()
    return out.reset_index()


@register
class SanitationLayer(Layer):
    """Planned route segments, green when a sanitation vehicle covered them in the window, red when not.

    Per route and per squad: planned km, covered km and share (also the mean daily share) in ``data.attrs``.
    """

    name = "sanitation"
    title = "环卫作业覆盖"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        region = get_region()
        end = params.end or dt.datetime.now(region.tz).date()
        start = params.start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        days = window_days(LayerParams(start=start, end=end), region.tz)
        bounds = (
            dt.datetime.combine(start, dt.time(), region.tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), region.tz),
        )
        # Segment scope without the squad test: a route's squad decides for planned segments.
        where = segment_where(params, "s", squads_on_segment=False)
        squads = allowed_squads(params)
        squad_test = "TRUE"
        if squads is not None:
            squad_test = "COALESCE(r.squad_code, s.squad_code) = ANY(:squads)"
            where.binds["squads"] = list(squads)
        plan = read_frame(
            conn,
            f"""SELECT r.route_code, r.name AS route_name, r.vehicle,
                       COALESCE(r.squad_code, s.squad_code) AS squad_code, s.id AS segment_id
                FROM route_segments rs JOIN sanitation_routes r ON r.id = rs.route_id
                JOIN street_segments s ON s.id = rs.segment_id
                WHERE {where.sql()} AND {squad_test}""",
            where.binds,
        )
        visits = read_frame(
            conn,
            f"""SELECT v.segment_id, v.subject_id, count(*) AS visits, sum(v.dwell_s) / 60.0 AS dwell_min
                FROM segment_visits v JOIN street_segments s ON s.id = v.segment_id
                WHERE v.subject_kind = 'sanitation' AND v.entered_at >= :start AND v.entered_at < :end
                  AND {segment_where(params, "s").sql()}
                GROUP BY v.segment_id, v.subject_id""",
            {**segment_where(params, "s").binds, "start": bounds[0], "end": bounds[1]},
        )
        ids = sorted(set(plan["segment_id"]) | set(visits["segment_id"]))
        tolerance = float(params.options.get("simplify_deg", 1e-5))
        segments = read_geoframe(
            conn,
            f"""SELECT s.id AS segment_id, s.name, s.squad_code,
                       COALESCE(s.length_m, ST_Length(s.geom::geography)) AS length_m,
                       {simplified_wkb("s.geom", tolerance)} AS wkb
                FROM street_segments s WHERE s.id = ANY(:ids) ORDER BY s.id""",
            {"ids": [int(i) for i in ids]},
        )
        per_segment = visits.groupby("segment_id").agg(visits=("visits", "sum"), dwell_min=("dwell_min", "sum"))
        segments = segments.join(per_segment, on="segment_id")
        segments[["visits", "dwell_min"]] = segments[["visits", "dwell_min"]].fillna(0)
        planned = set(plan["segment_id"])
        covered = segments["visits"] > 0
        on_plan = segments["segment_id"].isin(planned)
        segments["status"] = np.select([on_plan & covered, on_plan], ["covered", "missed"], default="unplanned")
        routes = plan.groupby("segment_id")["route_code"].agg(lambda s: "、".join(sorted(s)))
        segments["routes"] = segments["segment_id"].map(routes)

        lengths = segments.set_index("segment_id")["length_m"].astype(float)
        # Own vehicle: the route's planned vehicle drove the segment.
        own = plan.merge(visits, left_on=["segment_id", "vehicle"], right_on=["segment_id", "subject_id"], how="left")
        plan["covered"] = plan["segment_id"].isin(set(segments.loc[covered, "segment_id"]))
        plan["covered_own"] = own["visits"].fillna(0).to_numpy() > 0
        plan["length_m"] = plan["segment_id"].map(lengths).to_numpy()
        periods = visited_periods(conn, "sanitation", sorted(planned), bounds, region.tz)

        by_route = _coverage_table(plan, "route_code", lengths, periods, days) if len(plan) else pd.DataFrame()
        if len(by_route):
            names = plan.drop_duplicates("route_code").set_index("route_code")
            by_route["route_name"] = by_route["route_code"].map(names["route_name"])
            by_route["vehicle"] = by_route["route_code"].map(names["vehicle"])
            by_route["squad_code"] = by_route["route_code"].map(names["squad_code"])
        by_squad = _coverage_table(plan, "squad_code", lengths, periods, days) if len(plan) else pd.DataFrame()
        segments.attrs.update(by_route=by_route, by_squad=by_squad, days=len(days))
        return segments

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        traces = []
        legend = []
        for status, (label, color) in STATUSES.items():
            part = data[data["status"] == status] if len(data) else data
            legend.append(LegendItem(label, color))
            if len(part) == 0:
                continue
            width = 2 if status == "unplanned" else 4
            traces.append(line_trace(part.geometry, color=color, width=width, name=label))
        on_plan = data[data["status"] != "unplanned"] if len(data) else data
        planned_m = float(on_plan["length_m"].sum()) if len(on_plan) else 0.0
        covered_m = float(on_plan.loc[on_plan["status"] == "covered", "length_m"].sum()) if len(on_plan) else 0.0
        by_route = data.attrs.get("by_route", pd.DataFrame())
        by_squad = data.attrs.get("by_squad", pd.DataFrame())
        summary = {
            "planned_km": round(planned_m / 1000, 2),
            "covered_km": round(covered_m / 1000, 2),
            "planned_share": round(covered_m / planned_m, 4) if planned_m else None,
            "by_route": by_route.round(4).to_dict("records"),
            "by_squad": by_squad.round(4).to_dict("records"),
        }
        return LayerResult(traces=traces, legend=legend, summary=summary, data=data)
