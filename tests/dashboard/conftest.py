"""Fixtures of the dashboard tests: a seeded schema of its own, the app served on a free port in a
background thread, and headless Debian Chromium driven by Playwright (no browser downloads)."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.engine import URL
from werkzeug.serving import WSGIRequestHandler, make_server

from bench._browser import CHROMIUM, CHROMIUM_ARGS, free_port, http_login
from bench._browser import sign_in as browser_sign_in
from bench._seed import Seeded, seed
from dashboard.access.store import add_user, create_kiosk_token
from geo.db import get_engine
from geo.db.migrate import upgrade
from geo.db.roles import ensure_roles
from geo.region import Region
from geo.settings import PROJECT_ROOT, get_settings

SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
TEST_PASSWORD = "browser-tests-2026"
# Accounts made by ``dash_url``: username → role, and the wall screen's kiosk token.
ACCOUNTS: dict[str, str] = {}


@pytest.fixture(scope="session")
def dash_url(test_url: URL, region: Region) -> Iterator[tuple[URL, Seeded]]:
    """A migrated schema with the seed data; DATABASE_URL points at it for the session."""
    schema = f"dash_{uuid.uuid4().hex[:10]}"
    admin = get_engine(test_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = test_url.update_query_dict({"options": f"-csearch_path={schema},public"})
    previous = os.environ["DATABASE_URL"]
    try:
        engine = get_engine(url)
        upgrade(engine)
        ensure_roles(engine)
        seeded = seed(engine, region)
        add_user(engine, "admin", TEST_PASSWORD, "admin")
        add_user(engine, "leader1", TEST_PASSWORD, "squad_leader", squad_code="ZD01")
        add_user(engine, "leader2", TEST_PASSWORD, "squad_leader", squad_code="ZD02")
        add_user(engine, "chief1", TEST_PASSWORD, "street_chief", chief_code="JL001", squad_code="ZD01")
        add_user(engine, "viewer", TEST_PASSWORD, "viewer")
        ACCOUNTS.update(
            admin="admin",
            leader1="squad_leader",
            leader2="squad_leader",
            chief1="street_chief",
            viewer="viewer",
            kiosk=create_kiosk_token(engine, "测试大屏"),
        )
        os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
        get_settings.cache_clear()
        yield url, seeded
    finally:
        os.environ["DATABASE_URL"] = previous
        get_settings.cache_clear()
        get_engine(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(scope="session")
def seeded(dash_url: tuple[URL, Seeded]) -> Seeded:
    """What the seed wrote."""
    return dash_url[1]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:  # no access log in test output
        pass


@pytest.fixture(scope="session")
def dash_app(dash_url: tuple[URL, Seeded]):
    """The Dash app the tests serve (its callback map is complete after the first request)."""
    from dashboard.app import create_app

    return create_app()


@pytest.fixture(scope="session")
def dash_server(dash_app) -> Iterator[str]:
    """Base URL of the dashboard served from a background thread on a free port."""
    server = make_server("127.0.0.1", free_port(), dash_app.server, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Folder of the screenshots taken by the browser tests (printed once)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    return SCREENSHOTS


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_at(browser, dash_server: str, screenshots: Path, request: pytest.FixtureRequest):
    """Open a dashboard path in a new page of the given viewport; collects console errors and requests.

    When the test fails, every page it opened is saved as ``<test>-failed-N.png``. A page that made
    a request to any host other than the app fails the test (no request ever leaves the app).
    """
    pages = []

    def open_page(path: str, width: int = 1920, height: int = 1080, user: str | None = None):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        page.requests = record_requests(page)
        sign_in(page, dash_server, user or ("kiosk" if path.startswith("/wall") else "admin"))
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.goto(dash_server + path)
        pages.append(context)
        return page

    yield open_page
    report = getattr(request.node, "rep_call", None)
    foreign: list[str] = []
    for number, context in enumerate(pages):
        for page in context.pages:
            foreign += foreign_requests(page.requests, dash_server)
        if report is not None and report.failed:
            for page in context.pages:
                page.screenshot(path=str(screenshots / f"{request.node.name}-failed-{number}.png"))
        context.close()
    assert foreign == [], "requests to a host other than the app"


def record_requests(page) -> list[str]:
    """Record the URL of every request ``page`` makes (documents, scripts, tiles, fonts, workers…)."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    return urls


def foreign_requests(urls: list[str], base: str) -> list[str]:
    """The URLs in ``urls`` that go to another host than the app at ``base`` (``data:``/``blob:`` stay local)."""
    origin = base.rstrip("/") + "/"
    return [u for u in urls if not u.startswith(origin) and not u.startswith(("data:", "blob:"))]


def sign_in(page, base: str, user: str) -> None:
    """Log ``page`` in as ``user`` through the login form, or as the wall screen with ``"kiosk"``."""
    if user == "kiosk":
        browser_sign_in(page, base, user, kiosk_token=ACCOUNTS["kiosk"])
    else:
        browser_sign_in(page, base, user, TEST_PASSWORD)


def http_session(base: str, user: str | None) -> requests.Session:
    """A plain HTTP client logged in as ``user`` (login form with its CSRF field, or ``"kiosk"``; None: anonymous)."""
    if user is None:
        return requests.Session()
    if user == "kiosk":
        return http_login(base, kiosk_token=ACCOUNTS["kiosk"])
    return http_login(base, user, TEST_PASSWORD)


def watch_callbacks(page) -> list[str]:
    """Record failed Dash callback requests of ``page`` (status ≥ 400) into the returned list."""
    failures: list[str] = []
    page.on(
        "response",
        lambda r: "_dash-update-component" in r.url and r.status >= 400 and failures.append(f"{r.status} {r.url}"),
    )
    return failures


def map_state(page, graph_id: str) -> dict:
    """Traces with point counts and the view (centre, zoom) of the plotly map in ``graph_id``."""
    return page.evaluate(
        """(id) => {
            const gd = document.querySelector('#' + id + ' .js-plotly-plot');
            if (!gd || !gd._fullLayout || !gd._fullLayout.map) return null;
            const m = gd._fullLayout.map;
            return {
                traces: gd._fullData.map(t => ({type: t.type, name: t.name || '', meta: t.meta || null,
                        n: (t.lon || t.locations || t.z || []).length})),
                center: {lon: m.center.lon, lat: m.center.lat}, zoom: m.zoom,
                canvas: !!gd.querySelector('canvas.maplibregl-canvas'),
            };
        }""",
        graph_id,
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def callback_bodies(page) -> list[str]:
    """Collect the bodies of every Dash callback response of ``page`` into the returned list."""
    bodies: list[str] = []

    def keep(response) -> None:
        if "_dash-update-component" in response.url:
            with contextlib.suppress(Exception):  # the page navigated away before the body was read
                bodies.append(response.text())

    page.on("response", keep)
    return bodies


def click_map_until(page, graph_id: str, lon: float, lat: float, text_id: str, expected: str) -> bool:
    """Click the map ``graph_id`` at (lon, lat) (zoomed in there) until ``#text_id`` shows ``expected``.

    A click while MapLibre is still moving can miss: it clicks again, as a user would (3 tries).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _attempt in range(3):
        point = page.evaluate(
            """async ([id, lon, lat]) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
                const map = gd._fullLayout.map._subplot.map;
                map.jumpTo({center: [lon, lat], zoom: 16});
                await new Promise(done => { if (map.loaded()) setTimeout(done, 300); else map.once('idle', done); });
                const p = map.project([lon, lat]);
                const r = gd.querySelector('.maplibregl-canvas').getBoundingClientRect();
                return [r.left + p.x, r.top + p.y]; }""",
            [graph_id, lon, lat],
        )
        page.wait_for_timeout(800)
        page.mouse.move(point[0], point[1])
        page.wait_for_timeout(300)
        page.mouse.click(point[0], point[1])
        try:
            page.wait_for_function(
                "([id, t]) => document.querySelector('#' + id).innerText.includes(t)",
                arg=[text_id, expected],
                timeout=8000,
                polling=250,
            )
            return True
        except PlaywrightTimeout:
            continue
    return False


def wait_for_traces(page, graph_id: str, layer: str, timeout_ms: int = 20000) -> dict:
    """Wait until the map ``graph_id`` has a trace of ``layer`` (``meta.layer``); return :func:`map_state`."""
    page.wait_for_function(
        """([id, layer]) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
            return gd && gd.data && gd.data.some(t => t.meta && t.meta.layer === layer); }""",
        arg=[graph_id, layer],
        timeout=timeout_ms,
    )
    return map_state(page, graph_id)


# The squads' names drawn from the vector tiles on the home map's ``squad-fill`` layer (sorted), or null.
SQUAD_AREAS_DRAWN = """() => { const gd = document.querySelector('#home-county-map .js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot
        && gd._fullLayout.map._subplot.map;
    if (!map || !map.getLayer('squad-fill')) return null;
    return [...new Set(map.queryRenderedFeatures({layers: ['squad-fill']}).map(f => f.properties.code))].sort(); }"""


def wait_for_squad_areas(page, at_least: int, timeout_ms: int = 30000) -> list[str]:
    """Wait until the home map draws at least ``at_least`` squads' areas from the tiles; return their codes."""
    page.wait_for_function(
        f"() => {{ const c = ({SQUAD_AREAS_DRAWN})(); return c && c.length >= {at_least}; }}", timeout=timeout_ms
    )
    return page.evaluate(SQUAD_AREAS_DRAWN)


@pytest.fixture
def squad_page(page_at, dash_url):
    """ZD01's squad page as the admin, its layers and ranked segments drawn; failed callbacks in ``failures``."""
    page = page_at("/squad/ZD01")
    page.failures = watch_callbacks(page)
    page.reload()
    wait_for_traces(page, "squad-map", "hotspots", timeout_ms=60000)
    wait_for_traces(page, "squad-map", "patrol_coverage")
    page.wait_for_selector("#squad-ranked .ag-row", timeout=20000)
    return page


# -- the app in-process behind the Flask test client, on a fresh schema of its own -------------
AUTH_PASSWORD = "correct-horse-42"


@pytest.fixture
def auth_db(schema_url: URL, schema_engine, monkeypatch, tmp_path) -> Iterator[object]:
    """DATABASE_URL pointed at a fresh schema (var/ in a temporary folder), with two users."""
    from dashboard.access.web import forget_principals

    monkeypatch.setenv("DATABASE_URL", schema_url.render_as_string(hide_password=False))
    monkeypatch.setenv("EGIS_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    forget_principals()
    add_user(schema_engine, "admin", AUTH_PASSWORD, "admin")
    add_user(schema_engine, "leader3", AUTH_PASSWORD, "squad_leader", squad_code="ZD03")
    yield schema_engine
    forget_principals()
    get_settings.cache_clear()


@pytest.fixture
def client(auth_db):
    """A Flask test client of a new app on the ``auth_db`` schema."""
    from dashboard.app import create_app

    return create_app().server.test_client()


def login(client, username: str, password: str = AUTH_PASSWORD, next_: str = "/cases", **request):
    """Log ``client`` in through the form (GET /login for the token, then POST); the POST's response."""
    client.get("/login", **request)
    with client.session_transaction() as session:
        csrf = session["csrf"]
    form = {"username": username, "password": password, "csrf": csrf, "next": next_}
    return client.post("/login", data=form, **request)


# Where the county's bounds and the map's colour bar (if any) are drawn, in the map's pixels.
_COUNTY_ON_SCREEN = """([id, corners]) => {
    const gd = document.querySelector('#' + id + ' .js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot
        && gd._fullLayout.map._subplot.map;
    if (!map) return null;
    const canvas = map.getCanvas().getBoundingClientRect();
    const points = corners.map(c => map.project(c));
    const bar = gd.querySelector('.colorbar');
    const barRect = bar && bar.getBoundingClientRect();
    return {width: canvas.width, height: canvas.height, xs: points.map(p => p.x), ys: points.map(p => p.y),
            bar: barRect && barRect.width > 0
                ? {left: barRect.left - canvas.left, top: barRect.top - canvas.top} : null};
}"""


def county_on_screen(page, graph_id: str) -> dict:
    """The configured county's bounding box as the map ``graph_id`` draws it: its corners' pixels
    (``xs``, ``ys``), the map's ``width``/``height``, whether the box is ``inside`` the map, the share
    of the map it spans (``span``) and the colour bar's top-left (``bar``, None without one)."""
    from dashboard import basemap
    from geo.region import get_region

    xmin, ymin, xmax, ymax = get_region().outline.bounds
    lons, lats = basemap.to_display([xmin, xmax, xmin, xmax], [ymin, ymin, ymax, ymax])
    corners = [[float(lon), float(lat)] for lon, lat in zip(lons, lats, strict=True)]
    view = page.evaluate(_COUNTY_ON_SCREEN, [graph_id, corners])
    if view is None:
        return {"inside": False, "xs": [0], "ys": [0], "width": 1, "height": 1, "bar": None, "span": 0.0}
    view["inside"] = (
        min(view["xs"]) >= 0
        and max(view["xs"]) <= view["width"]
        and min(view["ys"]) >= 0
        and max(view["ys"]) <= view["height"]
    )
    # how much of the map the county takes: the larger share of its width or its height
    view["span"] = max(
        (max(view["xs"]) - min(view["xs"])) / view["width"], (max(view["ys"]) - min(view["ys"])) / view["height"]
    )
    return view
