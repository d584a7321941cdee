"""Live-path benchmark: fix-to-screen latency with 20 wall screens open, the live callback's p95 under
20 walls polling every 5 s + 10 squad leaders (against the full wall refresh measured the same way),
and the warning evaluation time per cycle at the demo scale and at 10×.

    .venv/bin/python bench/bench_live.py              # synthetic demo-scale data in a scratch schema
    .venv/bin/python bench/bench_live.py --runs 3 --seconds 40

The wall clients replay the live callback over HTTP as a browser does (kiosk login, the answer's
token sent back with the next poll, one request in flight per client); a writer thread stores a fix
every second for the positions of the street chiefs. gunicorn runs as documented in the README
(2 workers × 4 threads, keep-alive above the polling interval). Prints medians of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import make_url, text  # noqa: E402

from alerts.evaluate import evaluate  # noqa: E402
from alerts.rules import clear_caches  # noqa: E402
from bench._browser import http_login  # noqa: E402
from bench.bench_dashboard import drop_accounts, make_accounts, percentile, prepare, start_gunicorn  # noqa: E402
from geo.db import database_url, get_engine  # noqa: E402

POLL_S = 5.0


def drop(schema: str) -> None:
    with get_engine(database_url()).begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def chiefs(db_url: str) -> list[tuple[str, float, float]]:
    """Street chiefs with a starting point (their squad's station)."""
    with get_engine(make_url(db_url)).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.code, ST_X(s.station), ST_Y(s.station) FROM street_chiefs c "
                "JOIN squads s ON s.code = c.squad_code WHERE s.station IS NOT NULL ORDER BY c.code"
            )
        ).all()
    return [(r[0], float(r[1]), float(r[2])) for r in rows]


def live_bodies(base: str, session) -> dict[str, dict]:
    """The wall's and the squad page's live callback bodies and the full wall refresh, from the app's dependencies."""
    deps = session.get(base + "/_dash-dependencies", timeout=30).json()
    out = {}
    for dep in deps:
        key = dep["output"]
        first = dep["inputs"][0]["id"] + "." + dep["inputs"][0]["property"] if dep["inputs"] else ""
        outputs = [
            {"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in key.strip(".").split("...")
        ]
        if first in ("wall-live-req.data", "squad-live-req.data", "wall-refresh.n_intervals"):
            name = {"wall-live-req.data": "wall", "squad-live-req.data": "squad", "wall-refresh.n_intervals": "full"}
            out[name[first]] = {"output": key, "outputs": outputs, "inputs": dep["inputs"], "state": dep["state"]}
    return out


def body(spec: dict, values: dict) -> dict:
    """A callback body with ``values`` by ``id.property``."""

    def fill(items: list[dict]) -> list[dict]:
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    inputs = fill(spec["inputs"])
    return {
        "output": spec["output"],
        "outputs": spec["outputs"],
        "inputs": inputs,
        "state": fill(spec["state"]),
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }


def run_load(base: str, accounts, db_url: str, seconds: float, full: bool) -> dict[str, list]:
    """20 walls + 10 leaders polling the live callbacks (or, with ``full``, the walls' full refresh)
    every 5 s for ``seconds`` while fixes arrive; latencies, fix-to-answer delays, errors."""
    people = chiefs(db_url)
    engine = get_engine(make_url(db_url))
    written: dict[str, float] = {}  # "lon" text of a written fix → monotonic time written
    lock = threading.Lock()
    results: dict[str, list] = {"wall": [], "squad": [], "delay": [], "errors": []}
    stop = time.monotonic() + seconds
    probe = http_login(base, kiosk_token=accounts.kiosk)
    specs = live_bodies(base, probe)

    def writer() -> None:
        rng = random.Random(3)
        while time.monotonic() < stop:
            code, x, y = rng.choice(people)
            lon = round(x + rng.uniform(-0.01, 0.01), 7)
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom, source_crs) VALUES "
                        "('patrol', :s, now(), ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'EPSG:4326') "
                        "ON CONFLICT DO NOTHING"
                    ),
                    {"s": code, "x": lon, "y": y},
                )
            with lock:
                written[repr(lon)] = time.monotonic()
            time.sleep(1.0)

    def wall(i: int) -> None:
        session = http_login(base, kiosk_token=accounts.kiosk)
        ack, seen = {"n": 0, "token": None}, set()
        time.sleep(random.Random(i).random() * POLL_S)
        n = 0
        while time.monotonic() < stop:
            n += 1
            values = (
                {"wall-refresh.n_intervals": n, "wall-scale.data": 1, "wall-store.data": None}
                if full
                else {"wall-live-req.data": {"n": n}, "wall-live-ack.data": ack}
            )
            began = time.perf_counter()
            try:
                response = session.post(
                    base + "/_dash-update-component", json=body(specs["full" if full else "wall"], values), timeout=120
                )
            except Exception as exc:  # a reset keep-alive connection counts as an error
                with lock:
                    results["errors"].append(type(exc).__name__)
                continue
            took = time.perf_counter() - began
            now = time.monotonic()
            with lock:
                if response.status_code != 200:
                    results["errors"].append(response.status_code)
                    continue
                results["wall"].append(took)
                if not full:
                    payload = response.json()["response"]
                    ack = payload.get("wall-live-ack", {}).get("data", ack)
                    textual = response.text
                    for lon, at in written.items():
                        if lon not in seen and lon in textual:
                            seen.add(lon)
                            results["delay"].append(now - at)
            time.sleep(max(0.0, POLL_S - took))

    def leader(i: int) -> None:
        session = http_login(base, accounts.user, accounts.password)
        squad = f"ZD{i % 13 + 1:02d}"
        ack = {"n": 0, "token": None}
        n = 0
        while time.monotonic() < stop and not full:
            n += 1
            values = {"squad-live-req.data": {"n": n}, "squad-live-ack.data": ack, "squad-code.data": squad}
            began = time.perf_counter()
            try:
                response = session.post(
                    base + "/_dash-update-component", json=body(specs["squad"], values), timeout=120
                )
            except Exception as exc:
                with lock:
                    results["errors"].append(type(exc).__name__)
                continue
            took = time.perf_counter() - began
            with lock:
                (results["squad"] if response.status_code == 200 else results["errors"]).append(
                    took if response.status_code == 200 else response.status_code
                )
            if response.status_code == 200:
                ack = response.json()["response"].get("squad-live-ack", {}).get("data", ack)
            time.sleep(max(0.0, POLL_S - took))

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=wall, args=(i,)) for i in range(20)]
    threads += [threading.Thread(target=leader, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def evaluation_cycles(db_url: str, cycles: int) -> tuple[float, float]:
    """Seconds of the first (cold: the slow analyses computed) and the median steady evaluation cycle."""
    engine = get_engine(make_url(db_url))
    clear_caches()
    first = evaluate(engine).total_s
    steady = [evaluate(engine).total_s for _ in range(cycles)]
    return first, statistics.median(steady)


def report_evaluation(scale: int, runs: int) -> None:
    """Print the warning evaluation time per cycle on synthetic data at ``scale`` × the demo's cases and streets."""
    db_url, schema = prepare(False, 14000 * scale, street_scale=scale)
    try:
        cold, steady = zip(*(evaluation_cycles(db_url, 3) for _ in range(runs)), strict=True)
        print(
            f"warning evaluation, {scale}× demo scale: first cycle {statistics.median(cold) * 1000:.0f} ms, "
            f"steady cycle {statistics.median(steady) * 1000:.0f} ms (medians of {runs})",
            flush=True,
        )
    finally:
        drop(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--skip-load", action="store_true", help="only the warning evaluation")
    args = parser.parse_args()
    report_evaluation(1, args.runs)
    if not args.skip_load:
        load(args.runs, args.seconds)
    report_evaluation(10, args.runs)


def load(runs: int, seconds: float) -> None:
    """Print fix-to-answer delays and the live callbacks' p95 against the full wall refresh (medians of ``runs``)."""
    db_url, schema = prepare(False, 14000)
    try:
        accounts = make_accounts(db_url)
        log = Path(tempfile.mkstemp(suffix=".log")[1])
        process, base = start_gunicorn(db_url, 2, log)
        try:
            live_p95, squad_p95, full_p95, delay_p50, delay_p95, errors = [], [], [], [], [], []
            for _ in range(runs):
                live = run_load(base, accounts, db_url, seconds, full=False)
                live_p95.append(percentile(live["wall"], 0.95))
                squad_p95.append(percentile(live["squad"], 0.95))
                delay_p50.append(percentile(live["delay"], 0.5))
                delay_p95.append(percentile(live["delay"], 0.95))
                full_p95.append(percentile(run_load(base, accounts, db_url, seconds, full=True)["wall"], 0.95))
                errors.append(len(live["errors"]))
            med = statistics.median
            print(
                f"fix-to-answer (20 walls polling every {POLL_S:.0f} s): p50 {med(delay_p50):.2f} s, "
                f"p95 {med(delay_p95):.2f} s",
                flush=True,
            )
            print(
                f"live callback p95: walls {med(live_p95) * 1000:.0f} ms, "
                f"squad leaders {med(squad_p95) * 1000:.0f} ms;"
                f" full wall refresh p95 {med(full_p95) * 1000:.0f} ms; errors/resets per run {errors}",
                flush=True,
            )
        finally:
            process.terminate()
            process.wait(timeout=30)
            drop_accounts(db_url, accounts)
    finally:
        drop(schema)


if __name__ == "__main__":
    main()
