"""Sustained ingest over HTTP: many sources post batches of fixes to the API under gunicorn.

``python bench/bench_ingest.py [--sources 200] [--devices 2] [--batch 25] [--seconds 20] [--runs 3] [--workers 2]
[--threads 8]``

Each run uses a fresh schema with a 6 km street grid (bench/bench_gps.py), starts the API under
gunicorn with the documented settings, and lets ``--sources`` threads (a vendor platform each, with
``--devices`` devices walking the grid, one fix every 5 s) post batches back to back for
``--seconds``. Prints fixes/s accepted (matched and their visits written in the same request), the
p50/p95 request time, and the ratio to a plain binary COPY of the same number of fixes; medians of
the runs at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import requests
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_gps import BLOCK_M, GRID, fresh_schema
from etl.api.serve import gunicorn_argv
from etl.api.tokens import create_token
from etl.gps.fix_writer import FIX_COLUMNS, copy_binary, encode_fixes
from geo.crs import from_wgs84, to_wgs84
from geo.db.roles import ensure_roles
from geo.region import get_region

ORIGIN = (119.79, 28.875)
STEP_S = 5
SPEED_MPS = 1.3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Source(threading.Thread):
    """One vendor platform: posts the next batch of each of its devices, back to back, until ``stop``."""

    def __init__(
        self,
        number: int,
        devices: int,
        batch: int,
        url: str,
        token: str,
        start: float,
        stop: float,
        prefix: str = "BENCH",
    ) -> None:
        super().__init__(daemon=True)
        self.number, self.devices, self.batch, self.url, self.token = number, devices, batch, url, token
        self.prefix = prefix
        self.start_ts, self.stop_at = start, stop
        self.times: list[float] = []
        self.accepted = self.failed = 0
        self.step = 0
        region = get_region()
        self.metric = region.metric_crs
        self.x0, self.y0 = from_wgs84(ORIGIN[0], ORIGIN[1], self.metric)

    def fixes(self) -> list[dict]:
        out = []
        for d in range(self.devices):
            row = (self.number * self.devices + d) % GRID
            i = np.arange(self.step, self.step + self.batch)
            along = (i * STEP_S * SPEED_MPS) % ((GRID - 1) * BLOCK_M)
            lon, lat = to_wgs84(self.x0 + along, np.full(len(i), self.y0 + row * BLOCK_M + 3.0), self.metric)
            times = pd.to_datetime(self.start_ts + i * STEP_S, unit="s", utc=True)
            device = f"{self.prefix}{self.number:03d}-{d}"
            out += [
                {"device": device, "time": t.isoformat(), "lon": float(a), "lat": float(b), "crs": "wgs84"}
                for t, a, b in zip(times, lon, lat, strict=True)
            ]
        self.step += self.batch
        return out

    def run(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        while time.monotonic() < self.stop_at:
            body = {"fixes": self.fixes()}
            began = time.perf_counter()
            try:
                response = session.post(self.url, json=body, timeout=120)
            except requests.RequestException:
                self.failed += 1
                continue
            self.times.append(time.perf_counter() - began)
            if response.status_code == 200:
                self.accepted += response.json()["accepted"]
            else:
                self.failed += 1


def one_run(args: argparse.Namespace) -> dict[str, float]:
    """One run on a fresh schema with the street grid (dropped afterwards)."""
    engine, drop = fresh_schema()
    try:
        return measure(engine, args)
    finally:
        drop()


def measure(engine, args: argparse.Namespace, prefix: str = "BENCH") -> dict[str, float]:
    """Serve the API on ``engine``'s database under gunicorn and let ``args.sources`` sources post for
    ``args.seconds``; their devices are named ``<prefix><source>-<n>`` (a fresh prefix per run when the
    database already holds fixes). The counts afterwards read only these devices' fixes of the run."""
    api = None
    try:
        ensure_roles(engine)
        token = create_token(engine, f"bench-{prefix}", ["gps"])
        port = free_port()
        env = dict(
            os.environ, DATABASE_URL=engine.url.render_as_string(hide_password=False), EGIS_API_RATE_PER_S="100000"
        )
        api = subprocess.Popen(
            gunicorn_argv(f"127.0.0.1:{port}", args.workers, args.threads), env=env, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(base + "/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        start = time.time() - 6 * 3600
        stop = time.monotonic() + args.seconds
        sources = [
            Source(n, args.devices, args.batch, base + "/api/v1/gps", token, start, stop, prefix)
            for n in range(args.sources)
        ]
        began = time.perf_counter()
        for source in sources:
            source.start()
        for source in sources:
            source.join()
        elapsed = time.perf_counter() - began
        accepted = sum(s.accepted for s in sources)
        times = sorted(t for s in sources for t in s.times)
        mine = {"p": prefix + "%", "since": pd.Timestamp(start, unit="s", tz="UTC").to_pydatetime()}
        with engine.connect() as conn:
            stored, matched = conn.execute(
                text("SELECT count(*), count(segment_id) FROM gps_fixes WHERE subject_id LIKE :p AND ts >= :since"),
                mine,
            ).one()
            visits = conn.execute(
                text("SELECT count(*) FROM segment_visits WHERE subject_id LIKE :p AND entered_at >= :since"), mine
            ).scalar_one()
        copy_rate = plain_copy(engine, stored)
        return {
            "fixes_per_s": accepted / elapsed,
            "requests": len(times),
            "failed": sum(s.failed for s in sources),
            "p50_s": times[len(times) // 2] if times else float("nan"),
            "p95_s": times[int(len(times) * 0.95)] if times else float("nan"),
            "stored": stored,
            "matched_share": matched / max(stored, 1),
            "visits": visits,
            "copy_fixes_per_s": copy_rate,
            "ratio_to_copy": (accepted / elapsed) / copy_rate,
        }
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=30)


def plain_copy(engine, n: int) -> float:
    """Fixes/s of a binary COPY of ``n`` fixes into an empty copy of gps_fixes (same indexes), nothing derived."""
    n = max(n, 1000)
    frame = pd.DataFrame(
        {
            "key": np.arange(n) % 400,
            "kind": "patrol",
            "subject": [f"C{k}" for k in np.arange(n) % 400],
            "crs": "EPSG:4326",
            "ts": (1_700_000_000 + np.arange(n) * 5) * 1_000_000_000,
            "lon": ORIGIN[0] + np.arange(n) % 1000 * 1e-5,
            "lat": np.full(n, ORIGIN[1]),
            "speed": np.nan,
            "heading": np.nan,
            "trip": 1,
            "segment": -1,
            "distance": np.nan,
        }
    )
    payload = encode_fixes(frame, None)
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE copy_fixes (LIKE gps_fixes INCLUDING ALL) ON COMMIT DROP"))
        began = time.perf_counter()
        copy_binary(conn, "copy_fixes", FIX_COLUMNS, payload)
        return n / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--batch", type=int, default=25, help="fixes per device per request")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = []
    for number in range(args.runs):
        result = one_run(args)
        results.append(result)
        print(
            f"run {number + 1}: "
            + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items())
        )
    print("medians: " + ", ".join(f"{k}={statistics.median(r[k] for r in results):.3f}" for k in results[0]))


if __name__ == "__main__":
    main()
