"""Patrol plans on a map: each chief's route along the network in its own colour, stops as numbered markers."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard import basemap
from dashboard.mapview import anchor
from plans.planner import Plan

# One colour per chief's route (cycled): distinct on the light basemap.
ROUTE_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]


def route_traces(plan: Plan) -> list[go.Scattermap]:
    """Each chief's route along the network in its own colour, and its stops as numbered markers."""
    traces: list[go.Scattermap] = [anchor()]
    for k, route in enumerate(plan.routes):
        colour = ROUTE_COLOURS[k % len(ROUTE_COLOURS)]
        label = f"{route.chief_name}（{len(route.stops)} 个巡查点，{route.length_m / 1000:.1f} 公里）"
        if route.geometry is not None:
            lon, lat = zip(*route.geometry.coords, strict=True)
            traces.append(
                go.Scattermap(
                    lon=list(lon),
                    lat=list(lat),
                    mode="lines",
                    line={"color": colour, "width": 4},
                    name=label,
                    legendgroup=route.chief_code,
                    hoverinfo="name",
                    meta={"layer": "plan_route"},
                )
            )
        if route.stops:
            traces.append(
                go.Scattermap(
                    lon=[s.lon for s in route.stops],
                    lat=[s.lat for s in route.stops],
                    mode="markers",
                    marker={"size": 13, "color": colour},
                    text=[f"{s.seq}. {s.name or s.segment_key} · {s.arrive_at:%H:%M}" for s in route.stops],
                    hoverinfo="text",
                    customdata=[s.segment_id for s in route.stops],
                    legendgroup=route.chief_code,
                    showlegend=False,
                    meta={"layer": "plan_stops"},
                )
            )
    return basemap.for_display(traces)
