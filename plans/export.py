"""A plan written out: GeoJSON (one route LineString per chief, stops and times as properties) and GPX."""

from __future__ import annotations

import gpxpy.gpx
import shapely
from shapely.geometry import mapping

from plans.planner import ChiefRoute, Plan


def _stop(stop) -> dict:
    return {
        "seq": stop.seq,
        "segment_id": stop.segment_id,
        "segment_key": stop.segment_key,
        "name": stop.name,
        "reversed": stop.reversed,
        "arrive_at": stop.arrive_at.isoformat(),
        "leave_at": stop.leave_at.isoformat(),
        "length_m": round(stop.length_m, 1),
        "prize": stop.prize,
        "hot": stop.hot,
        "reasons": stop.reasons,
        "lon": round(stop.lon, 7),
        "lat": round(stop.lat, 7),
    }


def route_feature(route: ChiefRoute) -> dict:
    """One chief's route as a GeoJSON Feature (geometry null when the chief has no stop)."""
    geometry = mapping(shapely.set_precision(route.geometry, 1e-7)) if route.geometry is not None else None
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "chief_code": route.chief_code,
            "chief_name": route.chief_name,
            "start_at": route.start_at.isoformat(),
            "length_m": route.length_m,
            "duration_min": round(route.duration_s / 60, 1),
            "budget_min": round(route.budget_s / 60, 1),
            "stops": [_stop(s) for s in route.stops],
        },
    }


def to_geojson(plan: Plan) -> dict:
    """The plan as a GeoJSON FeatureCollection; request, figures and messages as foreign members."""
    return {
        "type": "FeatureCollection",
        "features": [route_feature(r) for r in plan.routes],
        "plan": {"request": plan.request.as_dict(), "summary": plan.summary, "messages": plan.messages},
    }


def to_gpx(plan: Plan, chief_code: str) -> str:
    """One chief's route as GPX 1.1: the path as a track, the stops as waypoints in order (for navigation apps).

    Raises
    ------
    KeyError
        When the chief has no route in the plan.
    """
    route = next((r for r in plan.routes if r.chief_code == chief_code), None)
    if route is None:
        raise KeyError(f"no route for chief {chief_code!r} in this plan")
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "武义县综合行政执法局 执法地图"
    gpx.name = f"{plan.request.date.isoformat()} {route.chief_name} 巡查路线"
    track = gpxpy.gpx.GPXTrack(name=gpx.name)
    gpx.tracks.append(track)
    segment = gpxpy.gpx.GPXTrackSegment()
    track.segments.append(segment)
    if route.geometry is not None:
        for lon, lat in route.geometry.coords:
            segment.points.append(gpxpy.gpx.GPXTrackPoint(latitude=lat, longitude=lon))
    for stop in route.stops:
        gpx.waypoints.append(
            gpxpy.gpx.GPXWaypoint(
                latitude=stop.lat,
                longitude=stop.lon,
                time=stop.arrive_at,
                name=f"{stop.seq}. {stop.name or stop.segment_key}",
                description="；".join(stop.reasons),
            )
        )
    return gpx.to_xml(version="1.1")
