"""The live picture: each officer's and vehicle's last position (online / stale / offline), a short
trail, and today's cases, as a fixed set of map traces that the dashboard patches in place.

Thresholds from ``[live]`` of the region config. Positions carry a role/unit label; names only when
the scope may see personal data and names are asked for (the squad page), never on the wall.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._frames import read_frame
from layers._privacy import device_label
from layers.base import Scope

STATES = {"online": ("在线", "#22c55e"), "stale": ("信号延迟", "#f59e0b"), "offline": ("离线", "#94a3b8")}
TRACE_NAMES = ("live_trail", "live_positions", "live_cases", "live_warnings")  # the fixed live traces, in order
SEVERITY_COLORS = {"critical": "#dc2626", "warning": "#f97316", "info": "#38bdf8"}

_POSITIONS = """
WITH subjects AS (
    SELECT 'patrol' AS kind, c.code AS subject_id, c.name, c.role, c.squad_code
    FROM street_chiefs c
    UNION
    SELECT DISTINCT ON (r.vehicle) 'sanitation', r.vehicle, NULL, '环卫车辆', r.squad_code
    FROM sanitation_routes r WHERE r.vehicle IS NOT NULL
)
SELECT s.kind AS subject_kind, s.subject_id, s.name, s.role, s.squad_code,
       coalesce(q.short_name, q.name) AS unit, f.ts, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat
FROM subjects s
LEFT JOIN squads q ON q.code = s.squad_code
CROSS JOIN LATERAL (
    SELECT g.ts, g.geom FROM gps_fixes g
    WHERE g.subject_kind = s.kind AND g.subject_id = s.subject_id AND g.ts > :since AND g.ts <= :now
    ORDER BY g.ts DESC LIMIT 1
) f
WHERE CAST(:squads AS text[]) IS NULL OR s.squad_code = ANY(CAST(:squads AS text[]))
"""

_TRAIL = """
SELECT g.subject_kind, g.subject_id, g.ts, ST_X(g.geom) AS lon, ST_Y(g.geom) AS lat
FROM gps_fixes g
LEFT JOIN street_chiefs c ON g.subject_kind = 'patrol' AND c.code = g.subject_id
WHERE g.ts > :since AND g.ts <= :now
  AND (CAST(:squads AS text[]) IS NULL OR c.squad_code = ANY(CAST(:squads AS text[]))
       OR (g.subject_kind = 'sanitation' AND g.subject_id IN (
           SELECT vehicle FROM sanitation_routes WHERE squad_code = ANY(CAST(:squads AS text[])))))
ORDER BY g.subject_kind, g.subject_id, g.ts
"""

_TODAY = """
SELECT category, status, received_at, dispatched_at, arrived_at, closed_at, ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM cases
WHERE received_at >= :day_start AND received_at <= :now AND geom IS NOT NULL
  AND (CAST(:squads AS text[]) IS NULL OR squad_code = ANY(CAST(:squads AS text[])))
ORDER BY received_at
"""


def _squads(scope: Scope, squads: tuple[str, ...] = ()) -> list[str] | None:
    allowed = None if scope.squads is None else set(scope.squads)
    if squads:
        allowed = set(squads) if allowed is None else allowed & set(squads)
    return None if allowed is None else sorted(allowed)


def state_of(age_s: pd.Series) -> pd.Series:
    """online / stale / offline for ages in seconds of the last fix (``[live]`` thresholds)."""
    live = get_region().live
    return pd.Series(
        np.select([age_s <= live.online_min * 60, age_s <= live.stale_min * 60], ["online", "stale"], "offline"),
        index=age_s.index,
    )


def positions(
    conn: Connection, scope: Scope, now: dt.datetime, squads: tuple[str, ...] = (), names: bool = False
) -> pd.DataFrame:
    """The last position of every officer and vehicle seen in the last ``offline_keep_h`` hours.

    Columns: ``subject_kind``, ``subject_id``, ``squad_code``, ``ts``, ``lon``, ``lat``, ``state``,
    ``label`` (a name only with ``names`` and a scope that allows personal data).
    """
    live = get_region().live
    binds = {"since": now - dt.timedelta(hours=live.offline_keep_h), "now": now, "squads": _squads(scope, squads)}
    frame = read_frame(conn, _POSITIONS, binds)
    if frame.empty:
        return frame.assign(state=pd.Series(dtype=str), label=pd.Series(dtype=str))
    age = (now - pd.to_datetime(frame["ts"], utc=True)).dt.total_seconds()
    frame["state"] = state_of(age)
    show = names and scope.personal_data
    frame["label"] = [
        device_label(u, r, n, show) for u, r, n in zip(frame["unit"], frame["role"], frame["name"], strict=True)
    ]
    return frame.drop(columns=["name", "role", "unit"])


def trail(conn: Connection, scope: Scope, now: dt.datetime, squads: tuple[str, ...] = ()) -> pd.DataFrame:
    """Fixes of the last ``trail_min`` minutes, by subject and time."""
    since = now - dt.timedelta(minutes=get_region().live.trail_min)
    return read_frame(conn, _TRAIL, {"since": since, "now": now, "squads": _squads(scope, squads)})


def today_cases(conn: Connection, scope: Scope, now: dt.datetime, squads: tuple[str, ...] = ()) -> pd.DataFrame:
    """Cases received since local midnight (no case number, no personal data): category, stage, place."""
    tz = get_region().tz
    day_start = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tzinfo=tz)
    return read_frame(conn, _TODAY, {"day_start": day_start, "now": now, "squads": _squads(scope, squads)})


def live_frames(
    conn: Connection, scope: Scope, now: dt.datetime, squads: tuple[str, ...] = (), names: bool = False
) -> dict[str, pd.DataFrame]:
    """Positions, trail and today's cases in one call (one connection)."""
    return {
        "positions": positions(conn, scope, now, squads, names),
        "trail": trail(conn, scope, now, squads),
        "cases": today_cases(conn, scope, now, squads),
    }


def _stage(row: pd.Series) -> str:
    for column, label in (("closed_at", "已办结"), ("arrived_at", "已到场"), ("dispatched_at", "已派遣")):
        if pd.notna(row[column]):
            return label
    return "待派遣"


def live_traces(frames: dict[str, pd.DataFrame], warnings: pd.DataFrame | None = None) -> list[go.Scattermap]:
    """The four live traces (:data:`TRACE_NAMES`, always all four, possibly empty), tagged in ``meta``."""
    pos, path, cases = frames["positions"], frames["trail"], frames["cases"]
    lon: list[float | None] = []
    lat: list[float | None] = []
    for _, group in path.groupby(["subject_kind", "subject_id"], sort=False):
        lon += [*group["lon"].tolist(), None]
        lat += [*group["lat"].tolist(), None]
    traces = [
        go.Scattermap(
            lon=lon, lat=lat, mode="lines", line={"width": 2, "color": "#60a5fa"}, hoverinfo="skip", name="轨迹"
        ),
        go.Scattermap(
            lon=pos["lon"],
            lat=pos["lat"],
            mode="markers",
            marker={"size": 11, "color": [STATES[s][1] for s in pos["state"]]},
            text=[f"{label} · {STATES[s][0]}" for label, s in zip(pos["label"], pos["state"], strict=True)],
            customdata=pos["subject_id"] if len(pos) else [],
            hovertemplate="%{text}<extra></extra>",
            name="实时位置",
        ),
        go.Scattermap(
            lon=cases["lon"],
            lat=cases["lat"],
            mode="markers",
            marker={"size": 9, "color": "#e879f9"},
            text=[
                f"今日案件 · {c or '未分类'} · {_stage(r)}"
                for c, (_, r) in zip(cases["category"], cases.iterrows(), strict=True)
            ],
            hovertemplate="%{text}<extra></extra>",
            name="今日案件",
        ),
    ]
    w = warnings if warnings is not None else pd.DataFrame(columns=["lon", "lat", "title", "severity"])
    w = w.dropna(subset=["lon", "lat"])
    traces.append(
        go.Scattermap(
            lon=w["lon"],
            lat=w["lat"],
            mode="markers",
            marker={
                "size": 16,
                "symbol": "circle",
                "color": [SEVERITY_COLORS.get(s, "#f97316") for s in w["severity"]],
            },
            text=w["title"].tolist(),
            hovertemplate="预警 · %{text}<extra></extra>",
            name="预警",
        )
    )
    for name, trace in zip(TRACE_NAMES, traces, strict=True):
        trace.meta = {"layer": name}
        trace.showlegend = False
    return traces
