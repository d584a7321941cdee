"""A month of GPS fixes at a county's live rate on the day-partitioned gps_fixes: load, size, ingest,
derivation, the patrol and live queries, and the retention.

    .venv/bin/python bench/bench_partitions.py                          # 30 days × ~833,000 fixes (~25 M)
    .venv/bin/python bench/bench_partitions.py --days 7 --fixes-per-day 100000 --runs 3

In a database of its own (``<EGIS_DB_NAME>_bench_parts``, created, migrated and dropped by the bench;
``--keep`` keeps it): the 6 km street grid of bench/bench_gps.py (assigned to the squads of
bench/_seed.py), ~165 devices (135 officers who are street chiefs, 30 vehicles) walking it at one fix
every 5 s for the hours of their shift, generated server-side into the day partitions, with their
segment visits. Then, at that size, medians of ``--runs``:

1. live ingest over HTTP under gunicorn (bench/bench_ingest.py: 200 sources posting batches);
2. incremental derivation per batch (``etl.live.gps.ingest_fixes``: one minute of every device);
3. the live queries (positions, trail, the KPI on-duty count) and the patrol_coverage layer for a
   day and a week, with the gps_fixes partitions each live query reads (EXPLAIN ANALYZE);
4. the retention: ``run_gps_maintenance`` with a retention that drops ~2 weeks, partitions before and
   after, its time; the queries again after it (their cost must not depend on the partitions kept);
5. size on disk of the month and the load time; the extrapolation to a year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.engine import Connection

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import bench_ingest
from bench._seed import seed
from bench.bench_gps import insert_grid
from bench.bench_search import median_ms
from etl.live.gps import ingest_fixes
from geo.db import database_url, get_engine
from geo.db.setup import sibling_database
from geo.partitions import (
    GPS_TABLE,
    PREMAKE_DAYS,
    RETENTION_DAYS_DEFAULT,
    gps_partitions,
    make_gps_partitions,
    run_gps_maintenance,
    scanned_partitions,
)
from geo.region import get_region
from geo.settings import get_settings
from layers.base import LayerParams, Scope
from layers.patrol import patrol_coverage
from layers.queries.kpis import live_figures
from layers.queries.live import positions, trail

DEVICES = 165  # ~135 officers and ~30 vehicles (issue 15, "Volume")
OFFICER_SHARE = 135 / 165
STEP_S = 5
FIXES_PER_SEGMENT = 60  # a device walks a segment in 5 min, then the next of its round
ROUND = 20  # segments of a device's round (its street chief's streets)
SQUADS = 13
LAG = dt.timedelta(minutes=15)  # the month ends this long before now; derivation batches fill it

# One device's walk: fix k (0…K-1) of day ``back`` days before the end; the same expressions make
# the fixes, their visits and the derivation batches.
_DEVICES = """SELECT n, CASE WHEN n <= :officers THEN 'patrol' ELSE 'sanitation' END AS kind,
                     CASE WHEN n <= :officers THEN 'P' || lpad(n::text, 3, '0')
                          ELSE 'V' || lpad((n - :officers)::text, 3, '0') END AS sid
              FROM generate_series(1, CAST(:devices AS int)) n"""
_SEGS = """SELECT id, ST_X(ST_StartPoint(geom)) AS x0, ST_Y(ST_StartPoint(geom)) AS y0,
                  ST_X(ST_EndPoint(geom)) AS x1, ST_Y(ST_EndPoint(geom)) AS y1
           FROM street_segments WHERE id <= :nseg"""


def _ts(k: str) -> str:
    secs = f"(:k - 1 - ({k})) * {STEP_S} + d.n % {STEP_S}"
    return f"(CAST(:end AS timestamptz) - make_interval(days => :back, secs => {secs}))"


def _seg(k: str) -> str:
    return f"(1 + (d.n * {ROUND} + (({k}) / {FIXES_PER_SEGMENT} + :back * 3) % {ROUND}) % :nseg)"


_WALK = f"""
WITH d AS ({_DEVICES}), s AS MATERIALIZED ({_SEGS})
SELECT d.kind, d.sid, {_ts("k")} AS ts, s.id AS segment_id,
       s.x0 + (s.x1 - s.x0) * ((k % {FIXES_PER_SEGMENT}) / {FIXES_PER_SEGMENT}.0) AS lon,
       s.y0 + (s.y1 - s.y0) * ((k % {FIXES_PER_SEGMENT}) / {FIXES_PER_SEGMENT}.0) AS lat
FROM d CROSS JOIN generate_series(CAST(:k_from AS int), CAST(:k_to AS int)) k JOIN s ON s.id = {_seg("k")}
"""
_INSERT_FIXES = f"""
INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom, speed_mps, trip_id, segment_id, match_distance_m, source_crs)
SELECT kind, sid, ts, ST_SetSRID(ST_MakePoint(lon, lat), 4326), 1.3, :back + 1, segment_id, 2.0, 'EPSG:4326'
FROM ({_WALK}) w
"""
_LAST = f"least(b * {FIXES_PER_SEGMENT} + {FIXES_PER_SEGMENT - 1}, :k - 1)"  # a visit's last fix
_INSERT_VISITS = f"""
WITH d AS ({_DEVICES})
INSERT INTO segment_visits (segment_id, subject_kind, subject_id, trip_id, entered_at, left_at, dwell_s, n_fixes)
SELECT {_seg("b * " + str(FIXES_PER_SEGMENT))}, d.kind, d.sid, :back + 1,
       {_ts("b * " + str(FIXES_PER_SEGMENT))}, {_ts(_LAST)},
       {STEP_S} * ({_LAST} - b * {FIXES_PER_SEGMENT}),
       least({FIXES_PER_SEGMENT}, :k - b * {FIXES_PER_SEGMENT})
FROM d CROSS JOIN generate_series(0, (CAST(:k AS int) - 1) / {FIXES_PER_SEGMENT}) b
"""
_CHIEFS = f"""
WITH d AS ({_DEVICES}), c AS (
    INSERT INTO street_chiefs (code, name, squad_code, role)
    SELECT sid, '巡查员' || sid, 'ZD' || lpad((1 + n % {SQUADS})::text, 2, '0'), '路长' FROM d WHERE kind = 'patrol'
    RETURNING id, code)
INSERT INTO chief_segments (chief_id, segment_id)
SELECT DISTINCT c.id, 1 + (substr(c.code, 2)::int * {ROUND} + j) % :nseg
FROM c CROSS JOIN generate_series(0, {ROUND - 1}) j
"""


class Month:
    """The bench database and the month loaded into it."""

    def __init__(self, engine: Engine, days: int, fixes_per_day: int, devices: int) -> None:
        self.engine, self.days, self.devices = engine, days, devices
        self.k = max(FIXES_PER_SEGMENT, fixes_per_day // devices)  # fixes per device per day
        self.officers = round(devices * OFFICER_SHARE)
        self.end = dt.datetime.now(dt.UTC).replace(microsecond=0) - LAG
        self.nseg = 0

    def binds(self, back: int, **more: Any) -> dict[str, Any]:
        return dict(
            devices=self.devices, officers=self.officers, nseg=self.nseg, end=self.end, back=back, k=self.k, **more
        )

    def prepare(self) -> None:
        """Streets, squads, street chiefs (the officers) and the month's partitions."""
        region = get_region()
        self.nseg = insert_grid(self.engine)
        seed(self.engine, region)
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    f"UPDATE street_segments SET squad_code = 'ZD' || lpad((1 + id % {SQUADS})::text, 2, '0') "
                    "WHERE id <= :nseg"
                ),
                {"nseg": self.nseg},
            )
            conn.execute(text(_CHIEFS), self.binds(0))
            made = make_gps_partitions(conn, self.end - dt.timedelta(days=self.days), self.end)
        print(f"prepared: {self.nseg} grid segments, {self.officers} officers, {len(made)} partitions made", flush=True)

    def resume(self) -> None:
        """Take the month already in the database (a run with ``--keep``, or an interrupted one): its end
        is the newest fix of its devices; ANALYZE it again."""
        with self.engine.begin() as conn:
            grid = "SELECT count(*) FROM street_segments WHERE segment_key ~ '^S[0-9]+$'"
            self.nseg = conn.execute(text(grid)).scalar_one()
            self.end = conn.execute(
                text(
                    "SELECT max(ts) FROM gps_fixes WHERE ts > now() - interval '3 days' AND ts <= now() "
                    "AND subject_id ~ '^[PV][0-9]{3}$'"
                )
            ).scalar_one()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE gps_fixes"))
            conn.execute(text("ANALYZE segment_visits"))
        print(f"reused: month ending {self.end:%Y-%m-%d %H:%M:%S} UTC, {self.nseg} grid segments", flush=True)

    def load(self) -> float:
        """Generate the month day by day (fixes, then visits); return the seconds."""
        began = time.perf_counter()
        for back in range(self.days - 1, -1, -1):
            t0 = time.perf_counter()
            with self.engine.begin() as conn:
                conn.execute(text("SET LOCAL synchronous_commit = off"))
                n = conn.execute(text(_INSERT_FIXES), self.binds(back, k_from=0, k_to=self.k - 1)).rowcount
                v = conn.execute(text(_INSERT_VISITS), self.binds(back)).rowcount
            print(f"  day -{back}: {n} fixes, {v} visits, {time.perf_counter() - t0:.1f} s", flush=True)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE gps_fixes"))
            conn.execute(text("VACUUM ANALYZE segment_visits"))
        return time.perf_counter() - began

    def batch(self, minute: int) -> list[dict[str, Any]]:
        """Minute ``minute`` after the month's end of every device, as the API's items."""
        first = self.k + minute * (60 // STEP_S)
        with self.engine.connect() as conn:
            rows = conn.execute(text(_WALK), self.binds(0, k_from=first, k_to=first + 60 // STEP_S - 1)).all()
        return [
            {"device": r.sid, "kind": r.kind, "time": r.ts.isoformat(), "lon": r.lon, "lat": r.lat, "crs": "wgs84"}
            for r in rows
        ]


def sizes(engine: Engine) -> dict[str, float]:
    """Rows, partitions and bytes of gps_fixes (all partitions, with indexes and TOAST) and segment_visits."""
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = CAST(:t AS regclass)) AS partitions, "
                    "(SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                    " WHERE inhparent = CAST(:t AS regclass)) AS fix_bytes, "
                    "(SELECT sum(reltuples) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid "
                    " WHERE i.inhparent = CAST(:t AS regclass)) AS fixes, "
                    "pg_total_relation_size('segment_visits') AS visit_bytes"
                ),
                {"t": GPS_TABLE},
            )
            .one()
            ._mapping
        )


def partitions_read(conn: Connection, fn: Callable[[Connection], Any]) -> int:
    """Most gps_fixes partitions any statement of ``fn(conn)`` reads (its statements EXPLAIN ANALYZEd)."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if GPS_TABLE in statement and not statement.lstrip().upper().startswith("EXPLAIN"):
            seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        fn(conn)
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    most = 0
    for statement, parameters in seen:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters or None).scalar_one()
        most = max(most, len(scanned_partitions(plan)))
    return most


def queries(engine: Engine, at: dt.datetime, runs: int) -> dict[str, tuple[float, int | None]]:
    """Median ms (and gps_fixes partitions read) of the live queries at ``at``, and of patrol_coverage
    for a day and a week."""
    tz = get_region().tz
    today = dt.datetime.now(tz).date()
    scope = Scope()
    cases: dict[str, Callable[[Connection], Any]] = {
        "live positions (wall)": lambda c: positions(c, scope, at),
        "live trail (wall)": lambda c: trail(c, scope, at),
        "KPI on-duty (live_figures)": lambda c: live_figures(c, LayerParams(), at),
        "live positions (squad ZD01)": lambda c: positions(c, scope, at, ("ZD01",), names=True),
        "patrol_coverage, day": lambda c: patrol_coverage(c, LayerParams(start=today, end=today)),
        "patrol_coverage, week": lambda c: patrol_coverage(
            c, LayerParams(start=today - dt.timedelta(days=6), end=today)
        ),
        "patrol_coverage, week, ZD01": lambda c: patrol_coverage(
            c, LayerParams(start=today - dt.timedelta(days=6), end=today, squads=("ZD01",))
        ),
    }
    out = {}
    with engine.connect() as conn:
        for name, fn in cases.items():
            fn(conn)  # warm the cache: the dashboard's pages run these over and over
            ms = median_ms(lambda fn=fn: fn(conn), runs)
            parts = partitions_read(conn, fn) if "live" in name or "KPI" in name else None
            out[name] = (ms, parts)
            conn.rollback()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--fixes-per-day", type=int, default=833_000, help="all devices together (~25 M a month)")
    parser.add_argument("--devices", type=int, default=DEVICES)
    parser.add_argument("--runs", type=int, default=3, help="runs of every measurement (medians)")
    parser.add_argument("--drop-days", type=int, default=14, help="days the retention run drops")
    parser.add_argument("--ingest-seconds", type=float, default=20.0)
    parser.add_argument("--sources", type=int, default=200, help="ingest: sources posting at once")
    parser.add_argument("--source-devices", type=int, default=20, help="ingest: devices of each source")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the month already in the bench database (kept or interrupted)"
    )
    args = parser.parse_args()
    name = f"{get_settings().db_name}_bench_parts"
    url = sibling_database(name)
    engine = get_engine(url)
    rows: list[tuple[str, str]] = []
    try:
        month = Month(engine, args.days, args.fixes_per_day, args.devices)
        if args.reuse:
            month.resume()
            load = "reused (--reuse)"
        else:
            month.prepare()
            load = f"{month.load():.0f} s"
        size = sizes(engine)
        rows += [
            ("fixes loaded (reltuples)", f"{size['fixes']:,.0f} in {args.days} days, {month.devices} devices"),
            ("load time (server-side generate + visits + VACUUM ANALYZE)", load),
            ("gps_fixes partitions", f"{size['partitions']} (incl. default and premade)"),
            ("gps_fixes on disk (tables + indexes)", f"{size['fix_bytes'] / 2**30:.2f} GiB"),
            ("segment_visits on disk", f"{size['visit_bytes'] / 2**20:.0f} MiB"),
        ]

        derive = []
        for minute in range(args.runs * 3):
            items = month.batch(minute)
            began = time.perf_counter()
            outcome = ingest_fixes(engine, "bench", items)
            derive.append((time.perf_counter() - began) * 1000)
            assert not outcome.rejected, outcome.rejected[:3]
        rows.append(
            (f"derivation per batch ({len(items)} fixes, 1 min of every device)", f"{statistics.median(derive):.0f} ms")
        )
        at = month.end + dt.timedelta(minutes=args.runs * 3)

        ingest = []
        ingest_args = argparse.Namespace(
            sources=args.sources,
            devices=args.source_devices,
            batch=25,
            seconds=args.ingest_seconds,
            workers=2,
            threads=8,
        )
        for run in range(args.runs):
            result = bench_ingest.measure(engine, ingest_args, prefix=f"B{run}X")
            ingest.append(result)
            print(
                f"  ingest run {run + 1}: {result['fixes_per_s']:.0f} fixes/s, p95 {result['p95_s'] * 1000:.0f} ms",
                flush=True,
            )
        rows.append(
            (
                f"live ingest over HTTP ({args.sources} sources)",
                f"{statistics.median(r['fixes_per_s'] for r in ingest):,.0f} fixes/s, "
                f"p95 {statistics.median(r['p95_s'] for r in ingest) * 1000:.0f} ms, "
                f"{statistics.median(r['ratio_to_copy'] for r in ingest):.2f} × COPY",
            )
        )

        full = queries(engine, at, args.runs)
        with engine.begin() as conn:
            before = len(gps_partitions(conn))
            report = run_gps_maintenance(conn, retention_days=max(1, args.days - args.drop_days))
        rows.append(
            (
                f"retention (run_gps_maintenance, {report.retention_days} days)",
                f"{before} → {report.partitions} day partitions, {len(report.dropped)} dropped, {report.seconds:.2f} s",
            )
        )
        after = queries(engine, at, args.runs)
        for name_q, (ms, parts) in full.items():
            read = "" if parts is None else f", reads {parts} partition(s)"
            rows.append((name_q, f"{ms:.0f} ms with the month, {after[name_q][0]:.0f} ms after the retention{read}"))

        per_day = size["fix_bytes"] / args.days
        rows += [
            ("year, extrapolated: fixes", f"{size['fixes'] / args.days * 365:,.0f}"),
            (
                "year, extrapolated: partitions",
                f"365 + {PREMAKE_DAYS} premade ({RETENTION_DAYS_DEFAULT} + {PREMAKE_DAYS} with the default retention)",
            ),
            (
                "year, extrapolated: disk of gps_fixes",
                f"{per_day * 365 / 2**30:.0f} GiB a year kept, {per_day * RETENTION_DAYS_DEFAULT / 2**30:.0f} GiB "
                f"at {RETENTION_DAYS_DEFAULT} days",
            ),
        ]
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(name)
        else:
            print(f"kept database {name} (--reuse measures it again)")
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def drop_database(name: str) -> None:
    """Drop the bench database (connections to it are ended first)."""
    admin = get_engine(make_url(database_url()).set(database="postgres"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


if __name__ == "__main__":
    main()
