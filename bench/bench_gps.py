"""Benchmark of the GPS load end to end: ≥ 1,000,000 synthetic fixes over a synthetic street grid.

Generates patrol GPX (one file per chief per day, WGS-84) and sanitation-vehicle CSV (GCJ-02,
local time) over a grid of streets near Wuyi's county seat, with GPS noise, stops with drift,
multipath jumps and duplicated points; then runs the real job (``etl.jobs.gps.load``) on a fresh
schema several times and prints fixes/s and the time per stage (medians).

    .venv/bin/python bench/bench_gps.py [--fixes 1000000] [--runs 3] [--keep-data DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.jobs.gps import load
from geo.crs import from_wgs84, to_wgs84, wgs84_to_gcj02
from geo.db import database_url, get_engine
from geo.db.migrate import upgrade
from geo.region import get_region

ORIGIN = (119.79, 28.875)  # south-west corner of the grid (WGS-84), in Wuyi's county seat
BLOCK_M = 150.0
GRID = 40  # junctions per side: 40 × 40 junctions, 3,120 segments, 6 km × 6 km
PATROL_SHARE = 0.7


def grid_segments(metric_crs: str) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Street segments of the grid as WGS-84 LineStrings, and the metric origin."""
    x0, y0 = from_wgs84(ORIGIN[0], ORIGIN[1], metric_crs)
    lines = []
    for i in range(GRID):
        for j in range(GRID):
            if i + 1 < GRID:
                lines.append(((i, j), (i + 1, j)))
            if j + 1 < GRID:
                lines.append(((i, j), (i, j + 1)))
    coords = np.array([[[x0 + a * BLOCK_M, y0 + b * BLOCK_M] for a, b in line] for line in lines])
    lon, lat = to_wgs84(coords[..., 0].ravel(), coords[..., 1].ravel(), metric_crs)
    wgs = np.stack([lon, lat], axis=1).reshape(-1, 2, 2)
    return np.arange(1, len(lines) + 1), shapely.linestrings(wgs), (float(x0), float(y0))


def walk(rng: np.random.Generator, n: int, speed: float, interval: float, origin: tuple[float, float]) -> np.ndarray:
    """``n`` fixes (t, x, y) of a subject walking the grid, with stops, noise, jumps and duplicates."""
    node = rng.integers(0, GRID, 2)
    points = [node * BLOCK_M]
    dwell = [0.0]
    length = 0.0
    need = n * interval * speed
    while length < need:
        step = np.array([(1, 0), (-1, 0), (0, 1), (0, -1)][rng.integers(0, 4)])
        nxt = np.clip(node + step, 0, GRID - 1)
        if (nxt == node).all():
            continue
        node = nxt
        points.append(node * BLOCK_M)
        dwell.append(rng.uniform(60, 600) if rng.random() < 0.08 else 0.0)
        length += BLOCK_M
    pts = np.array(points)
    seg = np.hypot(*np.diff(pts, axis=0).T)
    # time at which each node is reached / left, with dwell at nodes
    arrive = np.zeros(len(pts))
    leave = np.zeros(len(pts))
    for k in range(1, len(pts)):
        arrive[k] = leave[k - 1] + seg[k - 1] / speed
        leave[k] = arrive[k] + dwell[k]
    knots_t = np.ravel(np.column_stack([arrive, leave]))
    knots_x = np.repeat(pts[:, 0], 2)
    knots_y = np.repeat(pts[:, 1], 2)
    t = np.arange(n) * interval
    x = np.interp(t, knots_t, knots_x) + origin[0] + rng.normal(0, 4.0, n)
    y = np.interp(t, knots_t, knots_y) + origin[1] + rng.normal(0, 4.0, n)
    jumps = rng.random(n) < 0.002
    x[jumps] += rng.choice([-1, 1], jumps.sum()) * rng.uniform(800, 3000, jumps.sum())
    out = np.column_stack([t, x, y])
    dup = np.flatnonzero(rng.random(n) < 0.003)
    return np.insert(out, dup, out[dup], axis=0)[:n]


def generate(folder: Path, total: int, seed: int = 7) -> int:
    """Write the raw GPS files; return the number of fixes written."""
    rng = np.random.default_rng(seed)
    region = get_region()
    _, _, origin = grid_segments(region.metric_crs)
    patrol_dir = folder / "patrol"
    sanitation_dir = folder / "sanitation"
    sanitation_dir.mkdir(parents=True, exist_ok=True)
    (sanitation_dir / "source.toml").write_text('crs = "gcj02"\ntimezone = "Asia/Shanghai"\n', encoding="utf-8")
    written = 0
    day0 = dt.datetime(2025, 3, 3, 0, 30, tzinfo=dt.UTC)  # 08:30 local
    per_day = 5760  # 8 hours at 5 s
    patrol_target = int(total * PATROL_SHARE)
    chief = 0
    while written < patrol_target:
        code = f"JLZ{chief % 60:03d}"
        day = day0 + dt.timedelta(days=chief // 60)
        track = walk(rng, min(per_day, patrol_target - written), 1.3, 5.0, origin)
        lon, lat = to_wgs84(track[:, 1], track[:, 2], region.metric_crs)
        times = [(day + dt.timedelta(seconds=float(s))).strftime("%Y-%m-%dT%H:%M:%SZ") for s in track[:, 0]]
        body = "".join(
            f'<trkpt lat="{b:.7f}" lon="{a:.7f}"><ele>120.0</ele><time>{t}</time></trkpt>\n'
            for a, b, t in zip(lon, lat, times, strict=True)
        )
        out = patrol_dir / code / f"{day:%Y-%m-%d}.gpx"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="bench" '
            'xmlns="http://www.topografix.com/GPX/1/1">\n'
            f"<trk><name>{code}</name><trkseg>\n{body}</trkseg></trk>\n</gpx>\n",
            encoding="utf-8",
        )
        written += len(track)
        chief += 1
    rows = ["车牌号,定位时间,经度,纬度,速度(km/h),方向"]
    vehicle = 0
    local = dt.timezone(dt.timedelta(hours=8))
    while written < total:
        plate = f"浙G{vehicle % 30:05d}"
        day = dt.datetime(2025, 3, 3 + vehicle // 30, 5, 0, tzinfo=local)
        track = walk(rng, min(7200, total - written), 5.0, 5.0, origin)
        lon, lat = to_wgs84(track[:, 1], track[:, 2], region.metric_crs)
        glon, glat = wgs84_to_gcj02(lon, lat)
        for s, a, b in zip(track[:, 0], glon, glat, strict=True):
            stamp = (day + dt.timedelta(seconds=float(s))).strftime("%Y-%m-%d %H:%M:%S")
            rows.append(f"{plate},{stamp},{a:.7f},{b:.7f},18.0,")
        written += len(track)
        vehicle += 1
    (sanitation_dir / "2025-03.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return written


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (0 when it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def insert_grid(engine) -> int:
    """Insert the grid's street segments (ids 1…n, keys ``S<id>``) into an empty street_segments; return n."""
    ids, lines, _ = grid_segments(get_region().metric_crs)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO street_segments (id, segment_key, name, geom) SELECT i, 'S' || i, '路' || i, "
                "ST_GeomFromWKB(w, 4326) FROM unnest(CAST(:ids AS int[]), CAST(:wkb AS bytea[])) AS t(i, w)"
            ),
            {"ids": ids.tolist(), "wkb": [shapely.to_wkb(g) for g in lines]},
        )
        conn.execute(text("SELECT setval(pg_get_serial_sequence('street_segments', 'id'), :n)"), {"n": len(ids)})
    return len(ids)


def fresh_schema(streets: bool = True):
    """A migrated schema of its own with the grid's street segments; returns (engine, drop)."""
    base = database_url()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = get_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = get_engine(base.update_query_dict({"options": f"-csearch_path={schema},public"}))
    upgrade(engine)
    if streets:
        insert_grid(engine)

    def drop() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return engine, drop


def database_floor(folder: Path) -> None:
    """Time storing the very fixes of one load with COPY alone (the server's share), with and without the FKs."""
    engine, drop = fresh_schema()
    try:
        load(engine, folder, force=True)
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            columns = "subject_kind, subject_id, ts, geom, speed_mps, heading, trip_id, segment_id, match_distance_m"
            payload = bytearray()
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY gps_fixes ({columns}) TO STDOUT (FORMAT BINARY)") as copy,
            ):
                for block in copy:
                    payload += block
            rows = conn.execute(text("SELECT count(*) FROM gps_fixes")).scalar_one()
            conn.commit()
            for label, statements in (
                ("with every index and FK", []),
                (
                    "without the segment_id FK",
                    ["ALTER TABLE gps_fixes DROP CONSTRAINT fk_gps_fixes_segment_id_street_segments"],
                ),
                ("without the GiST index", ["DROP INDEX ix_gps_fixes_geom_gist"]),
            ):
                conn.execute(text("TRUNCATE gps_fixes, segment_visits"))
                for statement in statements:
                    conn.execute(text(statement))
                began = time.perf_counter()
                with (
                    driver.cursor() as cursor,
                    cursor.copy(f"COPY gps_fixes ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
                ):
                    copy.write(bytes(payload))
                seconds = time.perf_counter() - began
                conn.rollback()
                print(
                    f"database floor, {label}: COPY of the {rows:,} stored fixes alone {seconds:.2f} s "
                    f"({rows / seconds:,.0f} rows/s)"
                )
    finally:
        drop()


def time_rematch(engine) -> None:
    """Add a diagonal street across the grid, then match every stored fix again (``python -m etl rematch``)."""
    from etl.jobs.gps import rematch

    metric = get_region().metric_crs
    x0, y0 = from_wgs84(ORIGIN[0], ORIGIN[1], metric)
    lon, lat = to_wgs84([x0, x0 + GRID * BLOCK_M], [y0, y0 + GRID * BLOCK_M], metric)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO street_segments (id, segment_key, name, geom) VALUES (999999, 'diag', '斜街', "
                f"ST_GeomFromText('LINESTRING({lon[0]} {lat[0]}, {lon[1]} {lat[1]})', 4326))"
            )
        )
    began = time.perf_counter()
    report = rematch(engine)
    seconds = time.perf_counter() - began
    print(
        f"rematch after adding a street: {report.read:,} fixes matched again, {report.stats['visits']:,} visits "
        f"rebuilt in {seconds:.2f} s ({report.read / seconds:,.0f} fixes/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep-data", type=Path, default=None, help="write the files here and keep them")
    parser.add_argument("--floor", action="store_true", help="also time the COPY of the stored fixes alone")
    parser.add_argument("--rematch", action="store_true", help="also time 'rematch' after a street is added")
    args = parser.parse_args()
    folder = args.keep_data or Path(tempfile.mkdtemp(prefix="bench-gps-"))
    began = time.perf_counter()
    written = generate(folder, args.fixes) if not (folder / "patrol").exists() else _count(folder)
    print(f"{written:,} fixes in {folder} (written in {time.perf_counter() - began:.1f} s, or earlier)")
    results = []
    for number in range(args.runs):
        engine, drop = fresh_schema()
        try:
            with engine.connect() as conn:
                before_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            server_before = process_cpu(before_pid)
            python_before = time.process_time()
            began = time.perf_counter()
            report = load(engine, folder, force=True)
            seconds = time.perf_counter() - began
            python_cpu = time.process_time() - python_before
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM gps_fixes")).scalar_one()
                visits = conn.execute(text("SELECT count(*) FROM segment_visits")).scalar_one()
                pid = conn.execute(text(f"SELECT backend_pid FROM etl_runs WHERE id = {report.run_id}")).scalar_one()
            server_cpu = process_cpu(pid) - (server_before if pid == before_pid else 0.0)
            if args.rematch and number == 0:
                time_rematch(engine)
        finally:
            drop()
        stages = report.stats["seconds"]
        results.append((seconds, stages, python_cpu, server_cpu, report.stats["cpu_seconds"]))
        print(
            f"run {number + 1}: {report.read:,} read, {report.loaded:,} loaded, {report.rejected:,} rejected, "
            f"{stored:,} fixes stored, {report.stats.get('matched', 0):,} matched, {visits:,} visits; "
            f"{seconds:.2f} s = {report.read / seconds:,.0f} fixes/s; stages "
            + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
            + f"; CPU: python {python_cpu:.1f} s, database server {server_cpu:.1f} s; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    median = statistics.median(r[0] for r in results)
    print(f"\nmedian of {len(results)} runs: {median:.2f} s, {written / median:,.0f} fixes/s end to end")
    print("median seconds per stage, wall and CPU of the main thread ('load' = encoding the COPY payloads,")
    print("handing them to the COPY thread and waiting for the server; the server's own CPU is below):")
    for stage in results[0][1]:
        wall = statistics.median(r[1][stage] for r in results)
        cpu = statistics.median(r[4][stage] for r in results)
        print(f"  {stage:8s} wall {wall:6.2f}  cpu {cpu:6.2f}")
    python_cpu = statistics.median(r[2] for r in results)
    server_cpu = statistics.median(r[3] for r in results)
    print(
        f"median CPU: python {python_cpu:.1f} s, database server {server_cpu:.1f} s (they run in parallel: "
        f"with a core each, the load takes about {max(python_cpu, server_cpu):.1f} s = "
        f"{written / max(python_cpu, server_cpu):,.0f} fixes/s; wall time above depends on the other load "
        "on the machine)"
    )
    if args.floor:
        database_floor(folder)


def _count(folder: Path) -> int:
    """Fixes in files written before (track points and table rows)."""
    points = sum(p.read_text(encoding="utf-8").count("<trkpt") for p in folder.rglob("*.gpx"))
    rows = sum(len(p.read_text(encoding="utf-8").splitlines()) - 1 for p in folder.rglob("*.csv"))
    return points + rows


if __name__ == "__main__":
    main()
