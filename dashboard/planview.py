"""Patrol plans on a map: each chief's route along the network in its own colour, stops as numbered markers.

A stop is a disc in the route's colour with its number (1, 2, 3 … in visiting order) on a white
centre, written in the route's colour with the map font the app serves (:data:`basemap.MAP_FONT`,
no glyph server), large enough to read on a phone.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard import basemap
from dashboard.mapview import anchor
from plans.planner import Plan, Stop

# One colour per chief's route (cycled): distinct on the light basemap.
ROUTE_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
STOP_DISC_PX = 26  # the coloured disc of a stop
STOP_CENTRE_PX = 20  # its white centre, under the number
STOP_NUMBER_PX = 14  # the number's text size


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
                    marker={"size": STOP_DISC_PX, "color": colour},
                    text=[f"{s.seq}. {s.name or s.segment_key} · {s.arrive_at:%H:%M}" for s in route.stops],
                    hoverinfo="text",
                    customdata=[s.segment_id for s in route.stops],
                    legendgroup=route.chief_code,
                    showlegend=False,
                    meta={"layer": "plan_stops"},
                )
            )
            traces.append(stop_numbers(route.stops, colour, route.chief_code))
    return basemap.for_display(traces)


def stop_numbers(stops: list[Stop], colour: str, group: str) -> go.Scattermap:
    """The stops' numbers in visiting order, in ``colour`` on white centres (drawn over the stop discs).

    Parameters
    ----------
    stops
        A route's stops, in visiting order.
    colour
        The route's colour.
    group
        The legend group of the route (its chief's code), so the numbers hide with the route.
    """
    return go.Scattermap(
        lon=[s.lon for s in stops],
        lat=[s.lat for s in stops],
        mode="markers+text",
        marker={"size": STOP_CENTRE_PX, "color": "#ffffff"},
        text=[str(s.seq) for s in stops],
        textposition="middle center",
        textfont={"family": basemap.MAP_FONT, "size": STOP_NUMBER_PX, "color": colour},
        hoverinfo="skip",
        legendgroup=group,
        showlegend=False,
        meta={"layer": "plan_stop_numbers"},
    )
