"""Did the plan work: the GPS visits (``segment_visits``) of each chief against their approved route.

Per chief and plan version, within the plan's shift on its date: planned segments and how many
were visited, planned minutes and minutes actually spent on the planned segments, and detours
(segments the chief walked that were not in their plan: length and minutes). :func:`weekly`
sums the approved plans of a squad over seven days.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._frames import read_frame
from plans.planner import SHIFTS
from plans.store import approved_plans, unknown_version

COLUMNS = [
    "chief_code",
    "chief_name",
    "planned",
    "visited",
    "visited_share",
    "planned_min",
    "on_plan_min",
    "detour_km",
    "detour_min",
]


def shift_window(day: dt.date, shift: str) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (local time zone) of ``shift`` on ``day``."""
    tz = get_region().tz
    start_h, end_h = SHIFTS[shift]
    start = dt.datetime.combine(day, dt.time(start_h), tzinfo=tz)
    return start, start + dt.timedelta(hours=end_h - start_h)


def _version(conn: Connection, plan_id: int, version: int) -> tuple[int, dt.date, str]:
    row = conn.execute(
        text(
            """SELECT v.id, p.plan_date, p.shift FROM patrol_plan_versions v JOIN patrol_plans p ON p.id = v.plan_id
               WHERE v.plan_id = :p AND v.version = :v"""
        ),
        {"p": plan_id, "v": version},
    ).first()
    if row is None:
        raise unknown_version(plan_id, version)
    return int(row[0]), row[1], row[2]


def _visits(conn: Connection, chiefs: list[str], start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Minutes per chief and segment in [start, end), with the segment's length."""
    return read_frame(
        conn,
        """SELECT v.subject_id AS chief_code, v.segment_id, sum(v.dwell_s) / 60.0 AS minutes,
                  max(s.length_m) AS length_m
           FROM segment_visits v JOIN street_segments s ON s.id = v.segment_id
           WHERE v.subject_kind = 'patrol' AND v.subject_id = ANY(:c) AND v.entered_at < :e AND v.left_at > :s
           GROUP BY v.subject_id, v.segment_id""",
        {"c": chiefs, "s": start, "e": end},
    )


def stop_states(conn: Connection, plan_id: int, version: int, chief_code: str) -> pd.DataFrame:
    """The chief's stops in order with ``visited`` (a GPS visit on the segment during the shift) and ``minutes``."""
    version_id, day, shift = _version(conn, plan_id, version)
    stops = read_frame(
        conn,
        """SELECT seq, segment_id, segment_key, segment_name, arrive_at, leave_at, reasons FROM patrol_plan_stops
           WHERE version_id = :v AND chief_code = :c ORDER BY seq""",
        {"v": version_id, "c": chief_code},
    )
    for column in ("arrive_at", "leave_at"):
        stops[column] = stops[column].dt.tz_convert(get_region().tz)
    visits = _visits(conn, [chief_code], *shift_window(day, shift)).set_index("segment_id")["minutes"]
    stops["minutes"] = stops["segment_id"].map(visits).fillna(0.0).round(1)
    stops["visited"] = stops["minutes"] > 0
    return stops


def adherence(conn: Connection, plan_id: int, version: int) -> pd.DataFrame:
    """Per chief of a plan version: planned vs. visited segments, minutes on plan, detours (see module doc).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, one row per chief with a route in the version.
    """
    version_id, day, shift = _version(conn, plan_id, version)
    chiefs = read_frame(
        conn,
        """SELECT r.chief_code, COALESCE(c.name, r.chief_code) AS chief_name FROM patrol_plan_routes r
           LEFT JOIN street_chiefs c ON c.code = r.chief_code WHERE r.version_id = :v ORDER BY r.chief_code""",
        {"v": version_id},
    )
    planned = read_frame(
        conn,
        """SELECT chief_code, segment_id, extract(epoch FROM leave_at - arrive_at) / 60.0 AS planned_min
           FROM patrol_plan_stops WHERE version_id = :v""",
        {"v": version_id},
    )
    visits = _visits(conn, chiefs["chief_code"].tolist(), *shift_window(day, shift))
    rows = []
    for chief in chiefs.itertuples():
        mine = planned[planned["chief_code"] == chief.chief_code]
        walked = visits[visits["chief_code"] == chief.chief_code]
        planned_ids = set(mine["segment_id"].dropna().astype(int))
        on_plan = walked[walked["segment_id"].isin(planned_ids)]
        off_plan = walked[~walked["segment_id"].isin(planned_ids)]
        visited = len(set(on_plan["segment_id"]))
        rows.append(
            {
                "chief_code": chief.chief_code,
                "chief_name": chief.chief_name,
                "planned": len(mine),
                "visited": visited,
                "visited_share": round(visited / len(mine), 4) if len(mine) else 0.0,
                "planned_min": round(float(mine["planned_min"].sum()), 1),
                "on_plan_min": round(float(on_plan["minutes"].sum()), 1),
                "detour_km": round(float(off_plan["length_m"].fillna(0).sum()) / 1000, 3),
                "detour_min": round(float(off_plan["minutes"].sum()), 1),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def weekly(conn: Connection, squad: str, week_start: dt.date) -> pd.DataFrame:
    """Adherence of the squad's approved plans from ``week_start`` for seven days, summed per chief.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS` plus ``plans`` (how many approved plans the chief had that week);
        ``visited_share`` is recomputed from the sums.
    """
    frames = []
    for offset in range(7):
        for plan in approved_plans(conn, week_start + dt.timedelta(days=offset), squad).itertuples():
            frames.append(adherence(conn, plan.plan_id, plan.version).assign(plans=1))
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "plans"])
    total = pd.concat(frames).groupby(["chief_code", "chief_name"], as_index=False).sum(numeric_only=True)
    total["visited_share"] = (total["visited"] / total["planned"].where(total["planned"] > 0)).fillna(0).round(4)
    for column in ("planned_min", "on_plan_min", "detour_min"):
        total[column] = total[column].round(1)
    total["detour_km"] = total["detour_km"].round(3)
    return total[[*COLUMNS, "plans"]]
