"""Dashboard benchmark: first map visible in headless Chromium, filter-callback server time, payload per map
update, and a bounded load test (wall displays + squad leaders at once) against gunicorn on 127.0.0.1.

    .venv/bin/python bench/bench_dashboard.py                   # synthetic demo-scale data in a scratch schema
    .venv/bin/python bench/bench_dashboard.py --street-scale 10 # … with 10× the demo's street network
    .venv/bin/python bench/bench_dashboard.py --configured      # the configured database as loaded (make demo)
    .venv/bin/python bench/bench_dashboard.py --maps-only       # first map only (no callback and load tests)

Every browser and client logs in as a real user does: the login form for the pages, the kiosk link
for the wall (a bench account and kiosk token are made for the run and removed afterwards).
"First map" is the time from navigation to the map's data drawn; "names" to the basemap's tiles
loaded and its names placed. Prints medians of several runs. Never downloads a browser.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import make_url, text  # noqa: E402

from bench._browser import CHROMIUM, CHROMIUM_ARGS, choose, free_port, http_login, sign_in  # noqa: E402
from bench._seed import add_volume, seed  # noqa: E402
from dashboard.access.store import add_user, create_kiosk_token  # noqa: E402
from geo.db import database_url, get_engine  # noqa: E402
from geo.db.migrate import upgrade  # noqa: E402
from geo.db.roles import ensure_roles  # noqa: E402
from geo.region import get_region  # noqa: E402

PAGES = [
    ("/", "home-county-map", "stations"),
    ("/wall", "wall-map", "response_times"),
    ("/squad/ZD01", "squad-map", "hotspots"),
    ("/street/JL001", "street-map", "patrol_coverage"),
    ("/cases", "cases-map", None),
]
WINDOWS = ["7", "30", "90", "365", "ytd"]
FILTERS = {"squad-map": "squad-window", "street-map": "street-window"}  # the window dropdown of each page
PROCEDURES = [[], ["投诉举报"], ["简易程序"], ["一般程序", "重大案件"]]
DEMO_SEGMENTS = 1300  # street segments of the demo county (make demo loads 1 291)
_NAMES_DRAWN = """([id]) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
    const s = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    if (!s || !s.map || !s.map.isStyleLoaded() || !s.map.areTilesLoaded()) return false;
    const ids = s.map.getStyle().layers.filter(l => l.type === 'symbol' && !l.id.startsWith('plotly-')).map(l => l.id);
    return ids.length === 0 || s.map.queryRenderedFeatures({layers: ids}).length > 0; }"""


@dataclass(frozen=True)
class Accounts:
    """The bench's login: an admin account (form) and a wall screen's kiosk token."""

    user: str
    password: str
    kiosk: str


def make_accounts(db_url: str) -> Accounts:
    """An admin account and a kiosk token for this run (removed by :func:`drop_accounts`)."""
    engine = get_engine(make_url(db_url))
    name = f"bench-{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(16)
    add_user(engine, name, password, "admin")
    return Accounts(name, password, create_kiosk_token(engine, name))


def drop_accounts(db_url: str, accounts: Accounts) -> None:
    """Remove the run's account, its sessions and its kiosk token."""
    with get_engine(make_url(db_url)).begin() as conn:
        conn.execute(text("DELETE FROM kiosk_tokens WHERE label = :n"), {"n": accounts.user})
        conn.execute(
            text("DELETE FROM user_sessions WHERE user_id IN (SELECT id FROM users WHERE username = :n)"),
            {"n": accounts.user},
        )
        conn.execute(text("DELETE FROM users WHERE username = :n"), {"n": accounts.user})


def add_streets(engine, count: int) -> int:
    """Add ``count`` named short street segments around the county town and over the county (a real
    county's street network is about this shape: dense in town, sparse outside)."""
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
        return conn.execute(
            text(
                """
                INSERT INTO street_segments (segment_key, name, road_class, squad_code, length_m, geom)
                SELECT format('B-%s', g), format('测试%s路', g % (:count / 8 + 1)),
                       (ARRAY['主干路', '次干路', '支路', '支路', '街巷'])[1 + g % 5],
                       format('ZD%s', lpad((1 + g % 13)::text, 2, '0')), 150,
                       ST_SetSRID(ST_MakeLine(ST_MakePoint(x, y),
                                              ST_MakePoint(x + 0.0015 * cos(a), y + 0.0015 * sin(a))), 4326)
                FROM (SELECT g, a,
                             CASE WHEN g % 3 > 0 THEN 119.815 + r * cos(t) ELSE 119.55 + 0.4 * random() END AS x,
                             CASE WHEN g % 3 > 0 THEN 28.893 + r * sin(t) ELSE 28.6 + 0.4 * random() END AS y
                      FROM (SELECT g, random() * 2 * pi() AS a, random() * 2 * pi() AS t,
                                   0.03 * sqrt(-2 * ln(1 - random())) AS r
                            FROM generate_series(1, :count) g) q) p
                """
            ),
            {"count": count},
        ).rowcount


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def prepare(configured: bool, cases_per_year: int, street_scale: float = 1.0) -> tuple[str, str | None]:
    """The database URL to serve, and the scratch schema to drop afterwards (None for --configured)."""
    url = database_url()
    if configured:
        return url.render_as_string(hide_password=False), None
    schema = f"bench_dash_{uuid.uuid4().hex[:8]}"
    with get_engine(url).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = url.update_query_dict({"options": f"-csearch_path={schema},public"})
    engine = get_engine(scoped)
    upgrade(engine)
    ensure_roles(engine)  # the dashboard reads as egis_reader: grants on the scratch schema
    began = time.perf_counter()
    seed(engine, get_region())
    counts = add_volume(engine, get_region(), cases_per_year=cases_per_year)
    counts["streets_added"] = add_streets(engine, int(DEMO_SEGMENTS * street_scale))
    print(f"synthetic data: {counts} in schema {schema} ({time.perf_counter() - began:.0f} s)", flush=True)
    return scoped.render_as_string(hide_password=False), schema


def start_gunicorn(db_url: str, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn with ``workers`` sync workers (4 threads each) on a free port; waits until it answers."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url}
    command = [
        sys.executable, "-m", "gunicorn", "-c", "dashboard/gunicorn.conf.py", "-w", str(workers), "--threads", "4",
        "-b", f"127.0.0.1:{port}",
        "--timeout", "120", "--access-logfile", str(log), "--access-logformat", "%(U)s %(s)s %(D)s %(B)s",
        "dashboard.wsgi:server",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5)
            return process, base
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def first_map_visible(
    base: str, runs: int, accounts: Accounts
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, dict]]:
    """Seconds from navigation to a drawn map with data, and to the basemap's names drawn, per page and
    run (fresh browser context each run, logged in first: kiosk link for the wall, login form otherwise).

    Also returns, per map, one recorded callback request body (to replay in the later steps).
    """
    from playwright.sync_api import sync_playwright

    timings: dict[str, list[float]] = {path: [] for path, _, _ in PAGES}
    names: dict[str, list[float]] = {path: [] for path, _, _ in PAGES}
    bodies: dict[str, dict] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            for path, graph, layer in PAGES:
                context = browser.new_context(viewport={"width": 1920, "height": 1080})
                page = context.new_page()

                def keep(request, graph=graph) -> None:
                    body = request.post_data or ""
                    if "_dash-update-component" not in request.url or f"{graph}.figure" not in body:
                        return
                    if graph in FILTERS and f'"{FILTERS[graph]}"' not in body:  # not the live poll: a filter change
                        return
                    bodies.setdefault(graph, json.loads(body))

                page.on("request", keep)
                if path == "/wall":
                    sign_in(page, base, "", kiosk_token=accounts.kiosk)
                else:
                    sign_in(page, base, accounts.user, accounts.password)
                began = time.perf_counter()
                page.goto(base + path)
                page.wait_for_function(
                    """([id, layer]) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
                        if (!gd || !gd._fullData || !gd.querySelector('canvas.maplibregl-canvas')) return false;
                        return gd._fullData.some(t => (!layer || (t.meta && t.meta.layer === layer))
                                                      && ((t.lon || t.locations || []).length > 0)); }""",
                    arg=[graph, layer],
                    timeout=60000,
                    polling=50,
                )
                timings[path].append(time.perf_counter() - began)
                page.wait_for_function(_NAMES_DRAWN, arg=[graph], timeout=60000, polling=50)
                names[path].append(time.perf_counter() - began)
                if graph in FILTERS and graph not in bodies:  # record one filter change to replay later
                    with page.expect_request(
                        lambda r, g=graph: "_dash-update-component" in r.url and g in (r.post_data or "")
                    ):
                        choose(page, FILTERS[graph], "近30天")
                    page.wait_for_timeout(500)
                context.close()
        browser.close()
    return timings, names, bodies


_clients = threading.local()


def login_as(base: str, accounts: Accounts, kiosk: bool = False) -> None:
    """Log this thread's HTTP client in (the wall's kiosk link, or the admin's login form)."""
    if kiosk:
        _clients.session = http_login(base, kiosk_token=accounts.kiosk)
    else:
        _clients.session = http_login(base, accounts.user, accounts.password)


def post(base: str, body: dict) -> tuple[float, int, int]:
    """POST one callback like the browser does, with this thread's session: (seconds, status, response bytes)."""
    began = time.perf_counter()
    response = _clients.session.post(base + "/_dash-update-component", json=body, timeout=120)
    return time.perf_counter() - began, response.status_code, len(response.content) if response.ok else 0


def with_filters(body: dict, *, window: str, procedures: list[str], squad: str | None = None) -> dict:
    """A copy of the recorded squad-page callback body with other filter values (and squad)."""
    out = copy.deepcopy(body)
    for item in out.get("inputs", []):
        if item["id"] == "squad-window":
            item["value"] = window
        elif item["id"] == "squad-procedure":
            item["value"] = procedures
    for item in out.get("state", []):
        if item["id"] == "squad-code" and squad:
            item["value"] = squad
    return out


def filter_callbacks(base: str, body: dict, n: int) -> tuple[list[float], list[int], list[int]]:
    """Sequential filter changes on the squad page: seconds, response bytes and statuses."""
    seconds, sizes, statuses = [], [], []
    rng = random.Random(1)
    for i in range(n):
        variant = with_filters(body, window=WINDOWS[i % len(WINDOWS)], procedures=rng.choice(PROCEDURES))
        took, status, size = post(base, variant)
        seconds.append(took)
        sizes.append(size)
        statuses.append(status)
    return seconds, sizes, statuses


def server_times(log: Path, since_line: int) -> list[float]:
    """Server-side seconds of the callback requests logged by gunicorn after ``since_line``."""
    lines = log.read_text().splitlines()[since_line:]
    return [int(parts[2]) / 1e6 for parts in (line.split() for line in lines) if parts[0] == "/_dash-update-component"]


def load_test(base: str, accounts: Accounts, wall_body: dict, squad_body: dict, walls: int, squads: int,
              seconds: float, wall_period: float, think: float) -> dict[str, list]:  # fmt: skip
    """``walls`` wall displays refreshing every ``wall_period`` s and ``squads`` leaders changing filters
    every ``think`` s, all at once for ``seconds``; latencies and errors per kind."""
    results: dict[str, list] = {"wall": [], "squad": [], "errors": []}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def wall(i: int) -> None:
        login_as(base, accounts, kiosk=True)
        time.sleep(random.Random(i).random() * wall_period)
        while time.monotonic() < stop:
            took, status, _ = post(base, wall_body)
            with lock:
                (results["wall"] if status == 200 else results["errors"]).append(took if status == 200 else status)
            time.sleep(max(0.0, wall_period - took))

    def leader(i: int) -> None:
        login_as(base, accounts)
        rng = random.Random(100 + i)
        squad = f"ZD{i % 13 + 1:02d}"
        while time.monotonic() < stop:
            body = with_filters(squad_body, window=rng.choice(WINDOWS), procedures=rng.choice(PROCEDURES), squad=squad)
            took, status, _ = post(base, body)
            with lock:
                (results["squad"] if status == 200 else results["errors"]).append(took if status == 200 else status)
            time.sleep(think)

    threads = [threading.Thread(target=wall, args=(i,)) for i in range(walls)]
    threads += [threading.Thread(target=leader, args=(i,)) for i in range(squads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def tear_down(server: subprocess.Popen, db_url: str, accounts: Accounts, schema: str | None) -> None:
    """Stop the server, remove the run's account and the scratch schema (if any)."""
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:  # a loaded machine: do not leave the scratch schema behind
        server.kill()
        server.wait(timeout=30)
    drop_accounts(db_url, accounts)
    if schema:
        with get_engine(database_url()).begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configured", action="store_true", help="use the configured database as it is")
    parser.add_argument("--cases-per-year", type=int, default=14000, help="synthetic volume (annual report: ~14k)")
    parser.add_argument("--runs", type=int, default=5, help="browser runs per page")
    parser.add_argument("--filters", type=int, default=40, help="filter callbacks to time")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--walls", type=int, default=20)
    parser.add_argument("--squads", type=int, default=10)
    parser.add_argument("--duration", type=float, default=60.0, help="load test seconds per run")
    parser.add_argument("--load-runs", type=int, default=2)
    parser.add_argument("--wall-period", type=float, default=10.0, help="wall refresh period in the load test (s)")
    parser.add_argument("--think", type=float, default=2.0, help="squad leader pause between filter changes (s)")
    parser.add_argument("--street-scale", type=float, default=1.0, help="street network × the demo's (1 300 segments)")
    parser.add_argument("--maps-only", action="store_true", help="measure the first map only")
    args = parser.parse_args()

    db_url, schema = prepare(args.configured, args.cases_per_year, args.street_scale)
    accounts = make_accounts(db_url)
    log = Path(tempfile.mkstemp(prefix="gunicorn-access-", suffix=".log")[1])
    server, base = start_gunicorn(db_url, args.workers, log)
    try:
        print(f"gunicorn: {args.workers} workers × 4 threads at {base}; machine: {os.cpu_count()} cores", flush=True)
        timings, names, bodies = first_map_visible(base, args.runs, accounts)
        print("\nfirst map visible / names drawn (s, headless Chromium, fresh logged-in context; target ≤ 2 s):")
        for path, values in timings.items():
            print(
                f"  {path:14s} map median {statistics.median(values):5.2f} (first {values[0]:5.2f}, max "
                f"{max(values):5.2f})  names median {statistics.median(names[path]):5.2f} (max {max(names[path]):5.2f})"
            )
        if args.maps_only:
            return
        login_as(base, accounts)

        mark = len(log.read_text().splitlines())
        seconds, sizes, statuses = filter_callbacks(base, bodies["squad-map"], args.filters)
        timed = server_times(log, mark)
        print(f"\nsquad filter callback ({args.filters} sequential changes; target P95 ≤ 300 ms):")
        print(f"  server  P50 {percentile(timed, 0.5) * 1000:6.0f} ms  P95 {percentile(timed, 0.95) * 1000:6.0f} ms")
        print(
            f"  client  P50 {percentile(seconds, 0.5) * 1000:6.0f} ms  P95 {percentile(seconds, 0.95) * 1000:6.0f} ms"
        )
        print(f"  payload median {statistics.median(sizes) / 1024:6.1f} KiB  max {max(sizes) / 1024:6.1f} KiB"
              f"  (limit 1024 KiB); non-200: {sum(s != 200 for s in statuses)}")  # fmt: skip
        for graph in ("wall-map", "street-map"):
            if graph in bodies:
                sizes_g = [post(base, bodies[graph])[2] for _ in range(5)]
                print(f"  {graph} update payload median {statistics.median(sizes_g) / 1024:6.1f} KiB")

        print(
            f"\nload: {args.walls} walls (refresh every {args.wall_period:.0f} s) + {args.squads} squad leaders "
            f"(filter change every {args.think:.0f} s), {args.duration:.0f} s × {args.load_runs} runs"
        )
        summary: dict[str, list[float]] = {}
        for run in range(args.load_runs):
            mark = len(log.read_text().splitlines())
            result = load_test(base, accounts, bodies["wall-map"], bodies["squad-map"], args.walls, args.squads,
                               args.duration, args.wall_period, args.think)  # fmt: skip
            timed = server_times(log, mark)
            row = {
                "requests": len(result["wall"]) + len(result["squad"]) + len(result["errors"]),
                "errors": len(result["errors"]),
                "wall_p50": percentile(result["wall"], 0.5),
                "wall_p95": percentile(result["wall"], 0.95),
                "squad_p50": percentile(result["squad"], 0.5),
                "squad_p95": percentile(result["squad"], 0.95),
                "server_p95": percentile(timed, 0.95),
            }
            for key, value in row.items():
                summary.setdefault(key, []).append(value)
            print(
                f"  run {run + 1}: {row['requests']} callbacks, {row['errors']} errors; wall P50/P95 "
                f"{row['wall_p50'] * 1000:.0f}/{row['wall_p95'] * 1000:.0f} ms; squad P50/P95 "
                f"{row['squad_p50'] * 1000:.0f}/{row['squad_p95'] * 1000:.0f} ms; server P95 "
                f"{row['server_p95'] * 1000:.0f} ms",
                flush=True,
            )
        med = {k: statistics.median(v) for k, v in summary.items()}
        print(
            f"  median: errors {med['errors']:.0f}; wall P50/P95 {med['wall_p50'] * 1000:.0f}/"
            f"{med['wall_p95'] * 1000:.0f} ms; squad P50/P95 {med['squad_p50'] * 1000:.0f}/"
            f"{med['squad_p95'] * 1000:.0f} ms; server P95 {med['server_p95'] * 1000:.0f} ms"
        )
    finally:
        log.unlink(missing_ok=True)
        tear_down(server, db_url, accounts, schema)


if __name__ == "__main__":
    main()
