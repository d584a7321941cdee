"""Benchmark the patrol planner: one squad's whole network, 6 chiefs, a 2-hour shift; re-planning; a back-test.

Usage: ``.venv/bin/python bench/bench_plans.py [--runs 5] [--squad ZD01] [--backtest-weeks 4] [--skip-10x]``

Demo scale: the demo database (``python -m etl demo`` first), the given squad (default: the one with
the most street segments). 10×: a database of its own (``<db>_benchplans``) with a street grid of
ten times that squad's segments (every street crossing the others, one-way streets among them),
ten times its cases (clustered, so there are hot streets) and 6 chiefs. Targets (issue 16): plan
≤ 5 s at demo scale, ≤ 15 s at 10×, re-plan after an adjustment ≤ 2 s. Medians are printed.

The back-test plans each of the last N weeks of the demo with the evidence up to the day before the
week, then measures on that week: the share of its cases on planned segments and the PAI (share of
cases / share of street length; a case counts on its stored segment, ``cases.near_segment_id``, as
in the layers and the prizes: ``layers._segments.cases_per_segment``), against (a) where patrols
actually went that week (segments with a patrol visit, the same street length taken by dwell) and
(b) a naive plan: last week's top-N segments by case count with the same street length.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import time

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from geo.db import get_engine, writer_engine
from geo.db.setup import sibling_database
from geo.region import get_region
from geo.settings import get_settings
from layers._frames import read_frame
from layers._segments import cases_per_segment
from layers.base import LayerParams
from plans.graph import ensure_graph
from plans.planner import PlanRequest, make_plan

CHIEFS = 6
MINUTES = 120


def _median_timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _default_squad(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT squad_code FROM street_segments GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()


def _chiefs(engine: Engine, squad: str) -> tuple[str, ...]:
    with engine.connect() as conn:
        codes = conn.execute(
            text("SELECT code FROM street_chiefs WHERE squad_code = :s AND active ORDER BY code"), {"s": squad}
        ).scalars()
        return tuple(list(codes)[:CHIEFS])


def _last_day(engine: Engine) -> dt.date:
    with engine.connect() as conn:
        newest = conn.execute(text("SELECT max(received_at) FROM cases")).scalar_one()
    return newest.astimezone(get_region().tz).date()


def bench_planning(engine: Engine, squad: str, runs: int, label: str) -> None:
    """Median plan time and re-plan time after dropping one stop and moving another."""
    with engine.begin() as conn:
        started = time.perf_counter()
        info = ensure_graph(conn)
        print(f"  graph: {info.nodes:,} nodes, {info.edges:,} edges, {info.components} piece(s), "
              f"{'built' if info.rebuilt else 'current'} in {time.perf_counter() - started:.1f} s")  # fmt: skip
    chiefs = _chiefs(engine, squad)
    day = _last_day(engine) + dt.timedelta(days=1)
    request = PlanRequest(squad, day, chiefs=chiefs, minutes=MINUTES, mode="foot", time_limit_s=2.0)
    with engine.connect() as conn:
        median, plan = _median_timed(lambda: make_plan(conn, request), runs)
        s = plan.summary
        print(f"  {label}: plan {squad}, {len(chiefs)} chiefs, {MINUTES} min: median {median:.2f} s "
              f"({s['candidates']} candidate segments, {s['stops']} stops, {s['length_km']} km, "
              f"hot share {s['hot_share']:.1%}, prize {s['prize']}/{s['prize_offered']})")  # fmt: skip
        busy = [r for r in plan.routes if r.stops]
        drop = busy[0].stops[0].segment_id
        move = {busy[-1].stops[-1].segment_id: busy[0].chief_code} if len(busy) > 1 else {}
        again = dataclasses.replace(request, drop=frozenset({drop}), assign=move, time_limit_s=1.0)
        median, _ = _median_timed(lambda: make_plan(conn, again, plan.cache), runs)
        print(f"  {label}: re-plan after dropping a stop and moving one: median {median:.2f} s")


def build_10x(squad_segments: int, squad_cases: int) -> Engine:
    """A database with one squad whose grid network has 10× ``squad_segments`` and 10× ``squad_cases``."""
    url = sibling_database(f"{get_settings().db_name}_benchplans")
    engine = get_engine(url)
    target = 10 * squad_segments
    n = int(np.ceil((1 + np.sqrt(1 + 2 * target)) / 2))  # n×n streets of n-1 pieces: 2n(n-1) ≥ target
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM street_segments")).scalar_one()
        ready = conn.execute(
            text(
                "SELECT count(oneway) > 0 AND EXISTS (SELECT 1 FROM cases WHERE near_segment_id IS NOT NULL)"
                " FROM street_segments"
            )
        ).scalar_one()
        if have >= target and ready:
            return engine
        conn.execute(
            text(
                "TRUNCATE route_graph_edges, route_graph_nodes, route_graph_builds, segment_visits, chief_segments,"
                " street_chiefs, cases, street_segments, jurisdictions, squads RESTART IDENTITY CASCADE"
            )
        )
        step = 0.0012
        conn.execute(
            text(
                """INSERT INTO squads (code, name, station) VALUES ('ZB01', '基准中队',
                   ST_SetSRID(ST_MakePoint(119.80 + :c, 28.85 + :c), 4326))"""
            ),
            {"c": step * (n // 2)},
        )
        conn.execute(
            text(
                """INSERT INTO jurisdictions (version, squad_code, name, geom) VALUES (1, 'ZB01', '基准中队',
                   ST_Multi(ST_MakeEnvelope(119.79, 28.84, 119.81 + :w, 28.86 + :w, 4326)))"""
            ),
            {"w": step * n},
        )
        # block-long segments between crossings, north-south and east-west; every 7th one-way,
        # alternating direction street by street
        conn.execute(
            text(
                """INSERT INTO street_segments (segment_key, name, squad_code, oneway, geom)
                   SELECT format('g%s_%s_%s', d, i, j), format('%s%s路', CASE d WHEN 0 THEN '南北' ELSE '东西' END, i),
                          'ZB01', CASE WHEN (i + j) % 7 = 0 THEN (CASE WHEN i % 2 = 0 THEN 'FT' ELSE 'TF' END) END,
                          CASE d WHEN 0 THEN ST_SetSRID(ST_MakeLine(
                                   ST_MakePoint(119.80 + i * :s, 28.85 + j * :s),
                                   ST_MakePoint(119.80 + i * :s, 28.85 + (j + 1) * :s)), 4326)
                                 ELSE ST_SetSRID(ST_MakeLine(
                                   ST_MakePoint(119.80 + j * :s, 28.85 + i * :s),
                                   ST_MakePoint(119.80 + (j + 1) * :s, 28.85 + i * :s)), 4326) END
                   FROM generate_series(0, 1) d, generate_series(0, :n - 1) i, generate_series(0, :n - 2) j"""
            ),
            {"s": step, "n": n},
        )
        conn.execute(text("UPDATE street_segments SET length_m = ST_Length(geom::geography)"))
        conn.execute(
            text(
                """INSERT INTO street_chiefs (code, name, squad_code)
                   SELECT format('ZB%s', lpad(k::text, 3, '0')), format('街路长%s', k), 'ZB01'
                   FROM generate_series(1, :k) k"""
            ),
            {"k": CHIEFS},
        )
        # cases: half around three hot centres, half anywhere; the last 28 days, some still open
        conn.execute(text("SELECT setseed(0.16)"))
        conn.execute(
            text(
                """INSERT INTO cases (case_number, squad_code, segment_id, near_segment_id, near_segment_m, geom,
                                      geocode_level, received_at, closed_at, status)
                   SELECT format('B%s', g), 'ZB01', s.id, s.id, 0, ST_LineInterpolatePoint(s.geom, 0.5), '门牌',
                          now() - (random() * 27 + 1) * interval '1 day',
                          CASE WHEN random() < 0.8 THEN now() END, '办理中'
                   FROM generate_series(1, :cases) g
                   CROSS JOIN LATERAL (
                       SELECT id, geom FROM street_segments
                       ORDER BY CASE WHEN g % 2 = 0 THEN random()
                                ELSE (geom <-> ST_SetSRID(ST_MakePoint(119.80 + :w * (0.2 + 0.3 * (g % 3)),
                                                                       28.85 + :w * (0.3 + 0.2 * (g % 3))), 4326))
                                     + random() * 0.004 END
                       LIMIT 1) s"""
            ),
            {"cases": 10 * squad_cases, "w": step * n},
        )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return engine


def backtest(engine: Engine, squad: str, weeks: int) -> None:
    """Plan each of the last ``weeks`` weeks with evidence up to the day before, then score it on that week."""
    tz = get_region().tz
    last = _last_day(engine)
    chiefs = _chiefs(engine, squad)
    rows = []
    with engine.connect() as conn:
        lengths = read_frame(
            conn, "SELECT id AS segment_id, length_m FROM street_segments WHERE squad_code = :s", {"s": squad}
        ).set_index("segment_id")["length_m"]
        total_m = float(lengths.sum())
        for k in range(weeks, 0, -1):
            start = last - dt.timedelta(days=7 * k - 1)
            end = start + dt.timedelta(days=7)
            bounds = (dt.datetime.combine(start, dt.time(), tz), dt.datetime.combine(end, dt.time(), tz))
            plan = make_plan(
                conn, PlanRequest(squad, start, chiefs=chiefs, minutes=MINUTES, mode="foot", time_limit_s=2.0)
            )
            planned = {s.segment_id for r in plan.routes for s in r.stops}
            week = _cases(conn, squad, start, lengths.index)
            before = _cases(conn, squad, start - dt.timedelta(days=7), lengths.index)
            patrolled = read_frame(
                conn,
                """SELECT v.segment_id, sum(v.dwell_s) AS dwell FROM segment_visits v
                   JOIN street_segments s ON s.id = v.segment_id
                   WHERE v.subject_kind = 'patrol' AND s.squad_code = :s AND v.entered_at >= :a AND v.entered_at < :b
                   GROUP BY 1""",
                {"s": squad, "a": bounds[0], "b": bounds[1]},
            ).set_index("segment_id")["dwell"]
            plan_m = float(lengths.reindex(list(planned)).sum())
            actual = _same_length(patrolled.sort_values(ascending=False).index, lengths, plan_m)
            naive = _same_length(before.sort_values(ascending=False).index, lengths, plan_m)
            for name, chosen in (("plan", planned), ("actual patrols", actual), ("naive top-N", naive)):
                share = float(week.reindex(list(chosen)).fillna(0).sum()) / max(float(week.sum()), 1.0)
                length_share = float(lengths.reindex(list(chosen)).sum()) / total_m
                pai = share / length_share if length_share else float("nan")
                rows.append(
                    dict(
                        week=start.isoformat(),
                        kind=name,
                        segments=len(chosen),
                        length_share=length_share,
                        cases_share=share,
                        pai=pai,
                    )
                )
    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(frame.groupby("kind")[["length_share", "cases_share", "pai"]].mean().round(3).to_string())


def _cases(conn, squad: str, first: dt.date, segment_ids: pd.Index) -> pd.Series:
    """Cases of the 7 days from ``first`` per segment, counted where the layers and prizes count them."""
    params = LayerParams(start=first, end=first + dt.timedelta(days=6), squads=(squad,))
    counts = cases_per_segment(conn, params, pd.DataFrame({"segment_id": segment_ids}))
    return counts[counts > 0]


def _same_length(order, lengths: pd.Series, metres: float) -> set[int]:
    """The first segments of ``order`` whose street length adds up to ``metres`` (a fair comparison)."""
    chosen, total = set(), 0.0
    for sid in order:
        if sid not in lengths.index or total >= metres:
            continue
        chosen.add(int(sid))
        total += float(lengths[sid])
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--squad", default=None)
    parser.add_argument("--backtest-weeks", type=int, default=4)
    parser.add_argument("--skip-10x", action="store_true")
    parser.add_argument("--backtest-only", action="store_true", help="skip the timings")
    args = parser.parse_args()
    demo = writer_engine()
    squad = args.squad or _default_squad(demo)
    if not args.backtest_only:
        print("demo scale:")
        bench_planning(demo, squad, args.runs, "demo")
    if not (args.skip_10x or args.backtest_only):
        with demo.connect() as conn:
            segments, cases = conn.execute(
                text(
                    """SELECT (SELECT count(*) FROM street_segments WHERE squad_code = :s),
                              (SELECT count(*) FROM cases WHERE squad_code = :s
                               AND received_at > (SELECT max(received_at) FROM cases) - interval '28 days')"""
                ),
                {"s": squad},
            ).one()
        print(f"10×: {10 * segments} segments, {10 * cases} cases in 28 days")
        bench_planning(build_10x(segments, cases), "ZB01", args.runs, "10×")
    if args.backtest_weeks:
        print(f"\nback-test, {squad}, last {args.backtest_weeks} weeks (plan vs actual patrols vs naive top-N):")
        backtest(demo, squad, args.backtest_weeks)


if __name__ == "__main__":
    main()
