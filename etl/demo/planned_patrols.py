"""Approved patrol plans in the demo, and street chiefs who follow them only in part.

The order is the real pipeline, one day at a time. The generator leaves the chiefs' patrols of
the last days out of ``raw/`` (``etl.demo.generate.plan_days``; ``generation.json`` says how
many). After the demo's files are loaded, for each of those days and for today:

1. each squad's leader (demo user ``zd01``…, the squad code in lower case) makes a plan with the
   real planner (:func:`plans.store.make_and_save`, evidence up to the day before) and approves it
   the evening before, with the audit entry the plan page writes (``plan_approve``);
2. each chief with stops patrols after their habit (:class:`Habit`: skipped stops, detours to
   streets not in the plan, late starts, one chief who ignores the plan): the path along the
   routing graph is sampled into fixes by the demo's track sampler (``etl.demo.gps``) and written
   as a GPX file under ``<demo>/planned/<day>/<chief>/<day>.gpx``;
3. that day's folder is loaded by the GPS job (``etl.jobs.gps``), so the next day's plan sees it.

Today's plans start a few minutes after the load, in the shift under way (:func:`live_start`);
their tracks go to ``<demo>/planned/live/<today>/`` and are not loaded: the simulator replays
them through the ingest API (``python -m etl simulate``), so the chief's 今日巡查任务 fills in
live. What was planted is written to ``<demo>/planned/plan_following.csv`` (see TRUTH.md).
Every step is idempotent: plans that exist are reused, identical GPS files are skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import Connection

from etl.demo.gps import Track, _noise, _sample
from etl.demo.writers import gpx_document
from etl.jobs import gps as gps_job
from etl.runs import RunReport
from geo.crs import to_wgs84, transform_geometry
from geo.models import AuditEntry
from geo.region import Region, get_region
from plans import routing
from plans.errors import PlanError
from plans.planner import SHIFTS, PlanRequest, join_pieces
from plans.store import approve, approved_plans, load_plan, make_and_save

PLAN_MINUTES = 120  # patrol time per chief
PLAN_START = dt.time(8, 30)
APPROVED_AT = dt.time(17, 30)  # the leader approves the evening before
TIME_LIMIT_S = 0.3  # solver seconds per plan
MODES = ("foot", "ebike")  # on foot; by e-bike where a rural squad's streets are too far to walk
LIVE_LEAD_MIN = 10  # today's plans start this long after the demo is loaded ...
LIVE_MIN_MINUTES = 30  # ... if that much of the shift under way is left
QUIT_GRACE_S = 15 * 60  # a chief stops this long after the planned end, done or not
DETOUR_RADIUS_M = 500.0
IGNORER_RADIUS_M = 2500.0  # the chief who ignores the plan walks streets this near the station ...
AWAY_M = 400.0  # ... but no nearer than this to a planned stop
CLEAR_M = 60.0  # a skipped stop further than this from the path walked is "clear" (no visit possible)
FOLDER = "planned"
TRUTH_FILE = "plan_following.csv"
SEED_TAG = 16  # mixed into the demo's seed: the plan-following draws are their own stream


@dataclass(frozen=True)
class Habit:
    """How a chief follows a plan: chance to skip a stop, chance of a detour after a stop, chance to start late."""

    label: str
    skip: float
    detour: float
    late: float


def leader_of(squad: str) -> str:
    """The demo user name of a squad's leader (``dashboard users demo`` creates it)."""
    return squad.lower()


def live_folder(demo: Path, day: dt.date) -> Path:
    """Where today's plan-following tracks are written for the simulator (not loaded by the ETL)."""
    return demo / FOLDER / "live" / day.isoformat()


def habits(chiefs: list[str], rng: np.random.Generator) -> dict[str, Habit]:
    """A habit per chief: a spread from diligent to sloppy, and one chief (drawn) who ignores the plan."""
    out: dict[str, Habit] = {}
    ignorer = str(rng.choice(chiefs)) if chiefs else None
    for code in sorted(chiefs):
        if code == ignorer:
            out[code] = Habit("ignores", 1.0, 0.0, 0.5)
            continue
        skip = float(rng.uniform(0.02, 0.6))
        label = "diligent" if skip < 0.15 else "average" if skip < 0.35 else "sloppy"
        out[code] = Habit(label, skip, float(rng.uniform(0.05, 0.45)), float(rng.uniform(0.1, 0.5)))
    return out


def ensure_planned_patrols(engine: Engine, demo: Path, region: Region | None = None) -> list[RunReport]:
    """Plans, approvals and plan-following GPS for the demo's plan days and today (see module doc).

    Returns
    -------
    list of RunReport
        The GPS job's run per plan day (a re-run skips identical files).
    """
    region = region or get_region()
    meta_path = demo / "truth" / "generation.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    window = int(meta.get("plan_days", 0))
    if not window:
        return []
    end, seed = dt.date.fromisoformat(meta["end"]), int(meta["seed"])
    with engine.connect() as conn:
        chiefs = sorted(conn.execute(text("SELECT code FROM street_chiefs WHERE active")).scalars())
    habit = habits(chiefs, np.random.default_rng([seed, SEED_TAG]))
    rota = duty_rota(demo)
    reports, truth = [], []
    for day in [end - dt.timedelta(days=k) for k in range(window - 1, -1, -1)]:
        folder = demo / FOLDER / day.isoformat()
        truth += _plan_and_patrol(engine, day, folder, habit, seed, region, rota.get(day, set()))
        reports.append(gps_job.load(engine, folder))
    now = dt.datetime.now(region.tz)
    if now.date() > end:  # the simulator replays the last day's rota today: they get no plan today either
        live = live_folder(demo, now.date())
        truth += _plan_and_patrol(engine, now.date(), live, habit, seed, region, rota.get(end, set()), now)
    pd.DataFrame(truth, columns=TRUTH_COLUMNS).to_csv(demo / FOLDER / TRUTH_FILE, index=False)
    return reports


TRUTH_COLUMNS = [
    "date",
    "squad_code",
    "plan_id",
    "version",
    "chief_code",
    "habit",
    "late_min",
    "planned",
    "skipped",
    "skipped_clear",
    "detours",
    "fixes",
]


def duty_rota(demo: Path) -> dict[dt.date, set[str]]:
    """The generator's duty rota (``truth/duty_rota.csv``): per day, the chiefs who patrol all shift at random."""
    path = demo / "truth" / "duty_rota.csv"
    if not path.exists():
        return {}
    frame = pd.read_csv(path, dtype=str)
    return {dt.date.fromisoformat(day): set(group["chief_code"]) for day, group in frame.groupby("date")}


def _plan_and_patrol(
    engine: Engine,
    day: dt.date,
    folder: Path,
    habit: dict[str, Habit],
    seed: int,
    region: Region,
    on_rota: set[str],
    now: dt.datetime | None = None,
) -> list[tuple]:
    """Approved plans for ``day`` (made where missing) and each chief's track after their habit, as GPX files.

    ``on_rota``: the day's duty rota, left out of the plans. ``now``: the day is today; its plans start
    soon after ``now`` (see :func:`live_start`).
    """
    _ensure_plans(engine, day, region, on_rota, now)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, SEED_TAG, day.toordinal()])
    rows = []
    with engine.connect() as conn:
        for plan in approved_plans(conn, day).sort_values("squad_code").itertuples():
            rows += _follow(conn, int(plan.plan_id), int(plan.version), day, folder, habit, rng, region)
    return rows


def live_start(now: dt.datetime) -> tuple[str, dt.time, int]:
    """Shift, start time and minutes of today's plans: starting a few minutes after ``now`` within the
    shift under way (so the simulator's replay shows stops being reached), else the day shift at
    :data:`PLAN_START`."""
    soon = now + dt.timedelta(minutes=LIVE_LEAD_MIN)
    soon = soon.replace(minute=soon.minute - soon.minute % 5, second=0, microsecond=0)
    for shift, (first_hour, end_hour) in SHIFTS.items():
        left = end_hour * 60 - (soon.hour * 60 + soon.minute)
        if first_hour <= soon.hour < end_hour and left >= LIVE_MIN_MINUTES:
            return shift, soon.time(), min(PLAN_MINUTES, left)
    return "day", PLAN_START, PLAN_MINUTES


def _ensure_plans(
    engine: Engine, day: dt.date, region: Region, on_rota: set[str], now: dt.datetime | None = None
) -> None:
    """Each squad with active chiefs off the rota gets an approved plan for ``day`` unless it has one: the
    day shift approved the evening before, or (``now``: today) the shift under way, approved now."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT squad_code, code FROM street_chiefs WHERE active ORDER BY 1, 2")).all()
        done = set(approved_plans(conn, day)["squad_code"])
    planned: dict[str, list[str]] = {}
    for squad, code in rows:
        if code not in on_rota:
            planned.setdefault(squad, []).append(code)
    when = dt.datetime.combine(day - dt.timedelta(days=1), APPROVED_AT, tzinfo=region.tz)
    shift, start, minutes = "day", PLAN_START, PLAN_MINUTES
    if now is not None:
        when = now
        shift, start, minutes = live_start(now)
    for squad, squad_chiefs in planned.items():
        if squad in done:
            continue
        leader = leader_of(squad)
        for mode in MODES:
            request = PlanRequest(
                squad=squad,
                date=day,
                chiefs=tuple(squad_chiefs),
                shift=shift,
                minutes=minutes,
                mode=mode,
                start_time=start,
                time_limit_s=TIME_LIMIT_S,
            )
            try:
                with engine.begin() as conn:
                    plan, plan_id, version = make_and_save(conn, request, leader)
                    if not any(route.stops for route in plan.routes):
                        raise PlanError("budget_too_small", "no stop fits")  # rolled back: try the next mode
                    approve(conn, plan_id, version, leader, when)
                    _audit_approval(conn, leader, squad, plan_id, version, when)
                break
            except PlanError as exc:
                if exc.reason != "budget_too_small":
                    break  # no plan for this squad on this day (e.g. its station is off the network)


def _audit_approval(conn: Connection, leader: str, squad: str, plan_id: int, version: int, when: dt.datetime) -> None:
    """The audit entry the plan page writes when a leader approves (``plan_approve``)."""
    conn.execute(
        insert(AuditEntry).values(
            ts=when, username=leader, action="plan_approve", target=f"{squad}/{plan_id}", detail={"version": version}
        )
    )


def _follow(
    conn: Connection,
    plan_id: int,
    version: int,
    day: dt.date,
    folder: Path,
    habit: dict[str, Habit],
    rng: np.random.Generator,
    region: Region,
) -> list[tuple]:
    """Write each chief's track for one approved plan version; returns the truth rows."""
    plan = load_plan(conn, plan_id, version)
    squad = plan.request.squad
    segments = _squad_segments(conn, squad)
    rows = []
    for route in plan.routes:
        if not route.stops or route.geometry is None or route.chief_code not in habit:
            continue
        found = routing.nearest_node(conn, *route.geometry.coords[0], 50.0)
        if found is None:
            continue
        way = _itinerary(route, habit[route.chief_code], segments, rng)
        line, walks = _walk_line(conn, found[0], way["items"], [s.segment_id for s in route.stops])
        if line is None:
            continue
        late_s = float(rng.uniform(600, 3600)) if rng.random() < habit[route.chief_code].late else 0.0
        track = _track(route, line, late_s, rng, region)
        if track is None:
            continue
        clear = _clear(line, way["skipped"], walks, region)
        (folder / route.chief_code).mkdir(exist_ok=True)
        lon, lat = to_wgs84(track.x, track.y, region.metric_crs)
        path = folder / route.chief_code / f"{day.isoformat()}.gpx"
        path.write_text(gpx_document(route.chief_code, track.t, lon, lat), encoding="utf-8")
        rows.append(
            (
                day.isoformat(),
                squad,
                plan_id,
                version,
                route.chief_code,
                habit[route.chief_code].label,
                round(late_s / 60),
                len(route.stops),
                ";".join(str(s) for s in way["skipped"]),
                ";".join(str(s) for s in clear),
                ";".join(str(s) for s in way["detours"]),
                len(track.t),
            )
        )
    return rows


def _squad_segments(conn: Connection, squad: str) -> pd.DataFrame:
    """The squad's segments with a middle point (lon/lat) for picking detours."""
    return pd.read_sql_query(
        text(
            """SELECT id, ST_X(ST_LineInterpolatePoint(ST_LineMerge(geom), 0.5)) AS lon,
                      ST_Y(ST_LineInterpolatePoint(ST_LineMerge(geom), 0.5)) AS lat
               FROM street_segments WHERE squad_code = :s AND GeometryType(ST_LineMerge(geom)) = 'LINESTRING'
               ORDER BY id"""
        ),
        conn,
        params={"s": squad},
    )


def _near(segments: pd.DataFrame, lon: float, lat: float, radius_m: float, exclude: set[int]) -> np.ndarray:
    """Ids of ``segments`` whose middle lies within ``radius_m`` of lon/lat (equirectangular metres)."""
    dx = (segments["lon"].to_numpy() - lon) * 111_320 * np.cos(np.radians(lat))
    dy = (segments["lat"].to_numpy() - lat) * 110_540
    ids = segments["id"].to_numpy()[np.hypot(dx, dy) <= radius_m]
    return np.array([i for i in ids if int(i) not in exclude], dtype=int)


def _itinerary(route, habit: Habit, segments: pd.DataFrame, rng: np.random.Generator) -> dict:
    """The segments the chief walks, in order (kept stops and detours), and the stops skipped."""
    planned = {s.segment_id for s in route.stops}
    items: list[tuple[int, bool]] = []
    skipped: list[int] = []
    detours: list[int] = []
    if habit.label == "ignores":  # patrols streets of their own choosing, away from the planned ones
        lon, lat = route.geometry.coords[0]
        own = _near(segments, lon, lat, IGNORER_RADIUS_M, planned)
        for stop in route.stops:
            own = np.setdiff1d(own, _near(segments, stop.lon, stop.lat, AWAY_M, set()))
        picks = rng.choice(own, size=min(len(own), int(rng.integers(3, 7))), replace=False) if len(own) else []
        return {
            "items": [(int(s), bool(rng.random() < 0.5)) for s in picks],
            "skipped": [s.segment_id for s in route.stops],
            "detours": [int(s) for s in picks],
        }
    for stop in route.stops:
        if rng.random() < habit.skip:
            skipped.append(stop.segment_id)
        else:
            items.append((stop.segment_id, stop.reversed))
        if rng.random() < habit.detour:
            near = _near(segments, stop.lon, stop.lat, DETOUR_RADIUS_M, planned | set(detours))
            if len(near):
                pick = int(rng.choice(near))
                detours.append(pick)
                items.append((pick, bool(rng.random() < 0.5)))
    return {"items": items, "skipped": skipped, "detours": detours}


def _walk_line(conn: Connection, depot: int, items: list[tuple[int, bool]], planned: list[int]):
    """The path from the depot through ``items`` (segment, reversed) and back, along the routing graph."""
    walks = routing.segment_path(conn, sorted({s for s, _ in items} | set(planned)))
    steps = []
    for sid, backwards in items:
        walk = walks.get(sid)
        if walk is None:
            continue
        backwards = (backwards and walk["backward"]) or not walk["forward"]
        entry, exit_ = (walk["end"], walk["start"]) if backwards else (walk["start"], walk["end"])
        steps.append((sid, backwards, entry, exit_))
    if not steps:
        return None, walks
    pairs, at = [], depot
    for _, _, entry, exit_ in steps:
        pairs.append((at, entry))
        at = exit_
    pairs.append((at, depot))
    nodes = [depot, *(n for step in steps for n in step[2:])]
    legs = routing.paths(conn, pairs, routing.search_box(conn, nodes))
    parts, at = [], depot
    for sid, backwards, entry, exit_ in steps:
        if (at, entry) not in legs:
            continue  # unreachable (one-way): the chief leaves it out
        pieces = walks[sid]["pieces"]
        parts += legs[(at, entry)]
        parts += [shapely.reverse(p) for p in reversed(pieces)] if backwards else list(pieces)
        at = exit_
    parts += legs.get((at, depot), [])
    return join_pieces(parts), walks


def _track(route, line, late_s: float, rng: np.random.Generator, region: Region) -> Track | None:
    """Fixes along ``line`` from the planned start (plus ``late_s``), cut when the chief stops for the day."""
    metric = np.asarray(transform_geometry(line, region.metric_crs, inverse=True).coords)
    if len(metric) < 2:
        return None
    planned_kmh = route.length_m / max(route.duration_s, 1.0) * 3.6
    speed = float(np.clip(planned_kmh * rng.uniform(0.9, 1.15), 2.5, 30.0))
    start = route.start_at + dt.timedelta(seconds=late_s + float(rng.uniform(-300, 300)))
    start_utc = np.datetime64(start.astimezone(dt.UTC).replace(tzinfo=None), "s")
    interval = float(rng.choice([10, 15, 20, 30]))
    t, x, y, v, heading, stops, _ = _sample(rng, metric, start_utc, speed, interval, int(rng.integers(0, 3)), True)
    quit_at = route.start_at + dt.timedelta(seconds=route.duration_s + QUIT_GRACE_S)
    keep = t <= np.datetime64(quit_at.astimezone(dt.UTC).replace(tzinfo=None), "s")
    if keep.sum() < 2:
        return None
    track = Track(route.chief_code, start.date(), t[keep], x[keep], y[keep], v[keep], heading[keep], stops=stops)
    return _noise(rng, track, 0.004, 0.8)


def _clear(line, skipped: list[int], walks: dict, region: Region) -> list[int]:
    """Skipped stops whose segment's middle lies further than :data:`CLEAR_M` from the path walked."""
    path = transform_geometry(line, region.metric_crs, inverse=True)
    out = []
    for sid in skipped:
        walk = walks.get(sid)
        if walk is None:
            continue
        seg = transform_geometry(join_pieces(walk["pieces"]), region.metric_crs, inverse=True)
        middle = seg.interpolate(0.5, normalized=True)
        if path.distance(Point(middle)) > CLEAR_M:
            out.append(sid)
    return out
