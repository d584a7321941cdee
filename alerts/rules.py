"""The warning rules: each reads the database at an instant and returns what holds now (its findings).

A rule returns every subject for which its condition holds at ``now``; :mod:`alerts.store` raises a
warning for a new subject, keeps the open one of a subject still found, and resolves the open
warnings of subjects no longer found. Thresholds come from ``[warnings]`` of the region config
(:class:`geo.live_config.WarningRules`); the due time of a case is the one stored by the case job
(:mod:`geo.time_limits`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import h3
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.duty import duty_start_sql
from geo.region import Region
from geo.time_limits import awaiting_arrival_sql
from layers.base import LayerParams, Scope
from layers.registry import render


@dataclass(frozen=True)
class Finding:
    """One subject for which a rule's condition holds now."""

    rule: str
    severity: str  # info / warning / critical
    subject_kind: str  # case / segment / officer / device / route / cell
    subject_id: str
    title: str  # Chinese, without personal data (shown on the wall)
    squad_code: str | None = None
    segment_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


RuleFunction = Callable[[Connection, dt.datetime, Region], list[Finding]]
RULES: dict[str, tuple[str, RuleFunction]] = {}  # name → (Chinese label, function)


def rule(name: str, label: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function under ``name`` with its Chinese label."""

    def wrap(function: RuleFunction) -> RuleFunction:
        RULES[name] = (label, function)
        return function

    return wrap


def rule_label(name: str) -> str:
    """The Chinese label of a rule (the name itself when unknown)."""
    return RULES[name][0] if name in RULES else name


def _rows(conn: Connection, sql: str, **binds: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(sql), binds).mappings()]


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


# -- cases ---------------------------------------------------------------------------------------
@rule("case_arrival", "到场超时")
def case_arrival(conn: Connection, now: dt.datetime, region: Region) -> list[Finding]:
    """A case received in the last day, not arrived (到场) nor closed, near or over the arrival limit."""
    cfg = region.warnings
    limit = dt.timedelta(minutes=region.arrive_limit_min)  # the one 到场时限 (the wall colours by it too)
    near = limit * cfg.arrive_near_share
    rows = _rows(
        conn,
        f"""SELECT c.case_number, c.category, c.squad_code, c.near_segment_id AS segment_id, c.received_at,
                   ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat
            FROM cases c
            WHERE {awaiting_arrival_sql("c")} AND c.received_at <= :until""",
        now=now,
        until=now - near,
    )
    out = []
    for r in rows:
        waited = now - r["received_at"]
        over = waited >= limit
        what = r["category"] or "案件"
        out.append(
            Finding(
                "case_arrival",
                "critical" if over else "warning",
                "case",
                r["case_number"],
                f"{what}受理{_minutes(waited)}分钟{'仍' if over else '尚'}未到场"
                f"（时限{region.arrive_limit_min:g}分钟）",
                r["squad_code"],
                r["segment_id"],
                r["lon"],
                r["lat"],
                {"received_at": r["received_at"].isoformat(), "over": over},
            )
        )
    return out


@rule("case_due", "临期/超期未办结")
def case_due(conn: Connection, now: dt.datetime, region: Region) -> list[Finding]:
    """An open case whose due time (stored by the case job, :mod:`geo.time_limits`) is near or past."""
    rows = _rows(
        conn,
        """SELECT case_number, category, squad_code, near_segment_id AS segment_id, due_at,
                  ST_X(geom) AS lon, ST_Y(geom) AS lat
           FROM cases
           WHERE closed_at IS NULL AND due_at IS NOT NULL AND due_at > :since AND due_at <= :until""",
        since=now - dt.timedelta(days=30),
        until=now + dt.timedelta(hours=region.warnings.due_near_hours),
    )
    out = []
    for r in rows:
        over = r["due_at"] < now
        hours = abs((r["due_at"] - now).total_seconds()) / 3600
        state = f"已超期{hours:.0f}小时" if over else f"{hours:.0f}小时后到期"
        out.append(
            Finding(
                "case_due",
                "critical" if over else "warning",
                "case",
                r["case_number"],
                f"{r['category'] or '案件'}未办结，{state}",
                r["squad_code"],
                r["segment_id"],
                r["lon"],
                r["lat"],
                {"due_at": r["due_at"].isoformat(), "over": over},
            )
        )
    return out


# -- hot segments --------------------------------------------------------------------------------
def hot_segments(conn: Connection, day: dt.date, region: Region) -> pd.DataFrame:
    """Hot segments on ``day``: Gi* 99 % segments, and the top ``hot_top`` of each squad's
    under-patrolled ranking, over the last ``hot_days`` days (the layers' own analyses).

    Returns columns ``segment_id``, ``why`` (Chinese).
    """
    cfg = region.warnings
    params = LayerParams(start=day - dt.timedelta(days=cfg.hot_days - 1), end=day, scope=Scope.everything())
    parts = []
    gi = render("hotspots", conn, replace(params, options={"unit": "segment"})).data
    if gi is not None and len(gi):
        parts.append(pd.DataFrame({"segment_id": gi.loc[gi["cls"] == 3, "segment_id"], "why": "99%热点路段"}))
    ranked = render("underpatrolled", conn, params).data
    if ranked is not None and len(ranked):
        ranked = ranked[ranked["score"].notna()].sort_values("score", ascending=False)
        top = ranked.groupby("squad_code", dropna=False).head(cfg.hot_top)
        parts.append(pd.DataFrame({"segment_id": top["segment_id"], "why": "案件多、巡查少的重点路段"}))
    if not parts:
        return pd.DataFrame({"segment_id": pd.Series(dtype=int), "why": pd.Series(dtype=str)})
    out = pd.concat(parts, ignore_index=True).drop_duplicates("segment_id")
    out["segment_id"] = out["segment_id"].astype(int)
    return out


_hot_cache: dict[tuple[str, dt.date, int], tuple[dt.datetime, pd.DataFrame]] = {}
HOT_CACHE = dt.timedelta(minutes=30)  # the 30-day analyses move slowly: recomputed at most this often


def _cached_hot(conn: Connection, now: dt.datetime, region: Region) -> pd.DataFrame:
    day = now.astimezone(region.tz).date()
    key = (str(region.path), day, id(conn.engine))
    hit = _hot_cache.get(key)
    if hit is not None and abs(now - hit[0]) < HOT_CACHE:
        return hit[1]
    frame = hot_segments(conn, day, region)
    _hot_cache.clear()
    _hot_cache[key] = (now, frame)
    return frame


def clear_caches() -> None:
    """Forget the cached slow analyses (tests that change the data under them)."""
    _hot_cache.clear()
    _emerging_cache.clear()


@rule("hot_unpatrolled", "热点路段长时间无巡查")
def hot_unpatrolled(conn: Connection, now: dt.datetime, region: Region) -> list[Finding]:
    """During a shift: a hot segment with no patrol visit for ``hot_unpatrolled_hours`` (counted from
    the later of its last visit and the shift's start)."""
    cfg = region.warnings
    start = cfg.shift_start(now.astimezone(region.tz))
    limit = dt.timedelta(hours=cfg.hot_unpatrolled_hours)
    if start is None or now - start < limit:
        return []
    hot = _cached_hot(conn, now, region)
    if hot.empty:
        return []
    rows = _rows(
        conn,
        """SELECT s.id AS segment_id, s.name, s.squad_code,
                  ST_X(ST_LineInterpolatePoint(s.geom, 0.5)) AS lon, ST_Y(ST_LineInterpolatePoint(s.geom, 0.5)) AS lat,
                  (SELECT max(v.left_at) FROM segment_visits v
                    WHERE v.segment_id = s.id AND v.subject_kind = 'patrol'
                      AND v.entered_at > :since AND v.entered_at <= :now) AS last_visit
           FROM street_segments s WHERE s.id = ANY(CAST(:ids AS integer[]))""",
        ids=hot["segment_id"].tolist(),
        since=now - dt.timedelta(days=2),
        now=now,
    )
    why = dict(zip(hot["segment_id"], hot["why"], strict=True))
    out = []
    for r in rows:
        since = max(start, r["last_visit"]) if r["last_visit"] is not None else start
        if now - since < limit:
            continue
        hours = (now - since).total_seconds() / 3600
        out.append(
            Finding(
                "hot_unpatrolled",
                "warning",
                "segment",
                str(r["segment_id"]),
                f"{r['name'] or '未命名路段'}（{why[r['segment_id']]}）已{hours:.1f}小时无巡查",
                r["squad_code"],
                r["segment_id"],
                r["lon"],
                r["lat"],
                {"last_visit": r["last_visit"].isoformat() if r["last_visit"] else None},
            )
        )
    return out


# -- officers and devices ------------------------------------------------------------------------
@rule("officer_stationary", "离岗/越界")
def officer_stationary(conn: Connection, now: dt.datetime, region: Region) -> list[Finding]:
    """On duty (:mod:`geo.duty`): a patrol device that stayed within ``stationary_radius_m`` for
    ``stationary_min`` minutes, farther than ``station_radius_m`` from its squad's station (离岗) or
    outside its squad's jurisdiction (越界)."""
    cfg = region.warnings
    window = dt.timedelta(minutes=cfg.stationary_min)
    rows = _rows(
        conn,
        f"""WITH w AS (
                SELECT subject_id, min(ts) AS first_ts, max(ts) AS last_ts,
                       ST_Collect(ST_Transform(geom, {_metric(region)})) AS g
                FROM gps_fixes
                WHERE subject_kind = 'patrol' AND ts > :since AND ts <= :now
                GROUP BY subject_id
            ), s AS (
                SELECT w.subject_id, w.first_ts, w.last_ts,
                       (ST_MinimumBoundingRadius(w.g)).radius AS spread_m,
                       ST_Transform(ST_Centroid(w.g), 4326) AS c
                FROM w
            )
            SELECT s.subject_id, c.squad_code, sq.short_name, sq.name AS squad_name, ST_X(s.c) AS lon, ST_Y(s.c) AS lat,
                   s.first_ts, s.last_ts, s.spread_m,
                   ST_Distance(ST_Transform(s.c, {_metric(region)}),
                               ST_Transform(sq.station, {_metric(region)})) AS station_m,
                   (SELECT bool_or(ST_Intersects(j.geom, s.c)) FROM jurisdictions j
                     WHERE j.is_current AND j.squad_code = c.squad_code) AS inside
            FROM s
            LEFT JOIN street_chiefs c ON c.code = s.subject_id
            LEFT JOIN squads sq ON sq.code = c.squad_code
            WHERE s.spread_m <= :radius
              AND {duty_start_sql("s.subject_id", "CAST(:now AS timestamptz)", region)} IS NOT NULL""",
        since=now - window - dt.timedelta(minutes=region.live.online_min),
        now=now,
        radius=cfg.stationary_radius_m,
    )
    out = []
    for r in rows:
        if r["first_ts"] > now - window or r["last_ts"] < now - dt.timedelta(minutes=region.live.online_min):
            continue  # not observed over the whole window, or no longer reporting (the silent rule's case)
        outside_area = r["inside"] is False
        away = r["station_m"] is None or r["station_m"] > cfg.station_radius_m
        if not (outside_area or away):
            continue
        unit = r["short_name"] or r["squad_name"] or "巡查"
        what = "在辖区外" if outside_area else "在驻地外"
        stayed = _minutes(now - r["first_ts"])
        out.append(
            Finding(
                "officer_stationary",
                "critical" if outside_area else "warning",
                "officer",
                r["subject_id"],
                f"{unit}巡查人员{what}同一地点停留{stayed}分钟",
                r["squad_code"],
                None,
                r["lon"],
                r["lat"],
                {"spread_m": round(float(r["spread_m"]), 1), "outside_area": outside_area},
            )
        )
    return out


def _metric(region: Region) -> int:
    return int(region.metric_crs.split(":")[1])


SCHEDULE = re.compile(r"(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})")


def schedule_windows(schedule: str | None, day: dt.date, region: Region) -> list[tuple[dt.datetime, dt.datetime]]:
    """The local working windows of a route's schedule text (``05:00-07:30，14:00-16:00``) on ``day``."""
    out = []
    for h0, m0, h1, m1 in SCHEDULE.findall(schedule or ""):
        start = dt.datetime.combine(day, dt.time(int(h0) % 24, int(m0)), tzinfo=region.tz)
        end = dt.datetime.combine(day, dt.time(int(h1) % 24, int(m1)), tzinfo=region.tz)
        out.append((start, end if end > start else end + dt.timedelta(days=1)))
    return out


def _routes(conn: Connection) -> list[dict[str, Any]]:
    return _rows(
        conn,
        """SELECT r.id, r.route_code, r.name, r.vehicle, r.schedule, r.squad_code,
                  ST_X(ST_StartPoint(ST_GeometryN(r.geom, 1))) AS lon,
                  ST_Y(ST_StartPoint(ST_GeometryN(r.geom, 1))) AS lat
           FROM sanitation_routes r""",
    )


@rule("device_silent", "设备离线")
def device_silent(conn: Connection, now: dt.datetime, region: Region) -> list[Finding]:
    """A device that reported during its officer's current duty period (:mod:`geo.duty`; a sanitation
    vehicle: during its route's working window) and has been silent for ``silent_min`` while it lasts."""
    cfg = region.warnings
    local = now.astimezone(region.tz)
    silent = dt.timedelta(minutes=cfg.silent_min)
    # patrol: since the start of each officer's own duty period (roster, else config shift)
    windows: list[tuple[str, str, dt.datetime, str | None, str]] = [
        ("patrol", "", now - dt.timedelta(days=1), None, "巡查")
    ]
    for r in _routes(conn):
        for a, b in schedule_windows(r["schedule"], local.date(), region):
            if a <= local < b and r["vehicle"]:
                windows.append(("sanitation", r["vehicle"], a, r["squad_code"], "环卫车辆"))
    on_duty = f"max(f.ts) >= {duty_start_sql('f.subject_id', 'CAST(:now AS timestamptz)', region)}"
    out = []
    for kind, vehicle, since, squad, label in windows:
        rows = _rows(
            conn,
            f"""SELECT f.subject_id, max(f.ts) AS last_ts,
                      (array_agg(ST_X(f.geom) ORDER BY f.ts DESC))[1] AS lon,
                      (array_agg(ST_Y(f.geom) ORDER BY f.ts DESC))[1] AS lat,
                      max(c.squad_code) AS squad_code
               FROM gps_fixes f LEFT JOIN street_chiefs c ON f.subject_kind = 'patrol' AND c.code = f.subject_id
               WHERE f.subject_kind = :kind AND f.ts >= :since AND f.ts <= :now
                 AND (:vehicle = '' OR f.subject_id = :vehicle)
               GROUP BY f.subject_id HAVING max(f.ts) < :silent_since
                 AND {on_duty if kind == "patrol" else "true"}""",
            kind=kind,
            since=since,
            now=now,
            vehicle=vehicle,
            silent_since=now - silent,
        )
        for r in rows:
            out.append(
                Finding(
                    "device_silent",
                    "warning",
                    "device",
                    f"{kind}:{r['subject_id']}",
                    f"{label}设备已{_minutes(now - r['last_ts'])}分钟无定位",
                    r["squad_code"] or squad,
                    None,
                    r["lon"],
                    r["lat"],
                    {"last_ts": r["last_ts"].isoformat()},
                )
            )
    return out


@rule("route_not_started", "环卫路线未按时作业")
def route_not_started(conn: Connection, now: dt.datetime, region: Region) -> list[Finding]:
    """A sanitation route ``route_start_grace_min`` past the start of a working window with no
    sanitation visit on its segments since that start (until the window ends)."""
    local = now.astimezone(region.tz)
    grace = dt.timedelta(minutes=region.warnings.route_start_grace_min)
    out = []
    for r in _routes(conn):
        for a, b in schedule_windows(r["schedule"], local.date(), region):
            if not (a + grace <= local < b):
                continue
            started = conn.execute(
                text(
                    """SELECT EXISTS (SELECT 1 FROM segment_visits v
                        JOIN route_segments rs ON rs.segment_id = v.segment_id
                        WHERE rs.route_id = :route AND v.subject_kind = 'sanitation'
                          AND v.left_at >= :start AND v.entered_at <= :now)"""
                ),
                {"route": r["id"], "start": a, "now": now},
            ).scalar_one()
            if not started:
                out.append(
                    Finding(
                        "route_not_started",
                        "warning",
                        "route",
                        r["route_code"],
                        f"{r['name']}计划{a:%H:%M}开始作业，{_minutes(local - a)}分钟后仍未开始",
                        r["squad_code"],
                        None,
                        r["lon"],
                        r["lat"],
                        {"window_start": a.isoformat()},
                    )
                )
    return out


# -- emerging hotspots ---------------------------------------------------------------------------
_emerging_cache: dict[tuple[str, dt.date, int], pd.DataFrame] = {}


@rule("emerging_hotspot", "新增/加剧热点")
def emerging_hotspot(conn: Connection, now: dt.datetime, region: Region) -> list[Finding]:
    """A cell the emerging-hotspot layer classes as one of ``emerging_patterns`` (new, intensifying …)."""
    cfg = region.warnings
    day = now.astimezone(region.tz).date()
    key = (str(region.path), day, id(conn.engine))
    if key not in _emerging_cache:  # weekly counts: once a day is enough
        params = LayerParams(end=day, options={"weeks": cfg.emerging_weeks}, scope=Scope.everything())
        _emerging_cache.clear()
        _emerging_cache[key] = render("emerging", conn, params).data
    data = _emerging_cache[key]
    if data is None or data.empty:
        return []
    shown = data[data["category"].isin(cfg.emerging_patterns)]
    if shown.empty:
        return []
    points = [h3.api.basic_int.cell_to_latlng(int(c)) for c in shown["cell"]]
    squads = _squads_at(conn, [(lon, lat) for lat, lon in points])
    labels = {"new_hot": "新增热点", "intensifying_hot": "加剧热点"}
    out = []
    for (lat, lon), cell, category, squad in zip(points, shown["h3"], shown["category"], squads, strict=True):
        out.append(
            Finding(
                "emerging_hotspot",
                "info",
                "cell",
                str(cell),
                f"案件{labels.get(category, category)}（近{cfg.emerging_weeks}周）",
                squad,
                None,
                lon,
                lat,
                {"category": category},
            )
        )
    return out


def _squads_at(conn: Connection, points: list[tuple[float, float]]) -> list[str | None]:
    """The squad whose current jurisdiction contains each (lon, lat)."""
    if not points:
        return []
    rows = conn.execute(
        text(
            """SELECT p.i, (SELECT j.squad_code FROM jurisdictions j
                            WHERE j.is_current AND ST_Intersects(j.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))
                            LIMIT 1) AS squad_code
               FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS p(x, y, i)"""
        ),
        {"xs": [p[0] for p in points], "ys": [p[1] for p in points]},
    ).all()
    by = {int(i): s for i, s in rows}
    return [by.get(i + 1) for i in range(len(points))]
