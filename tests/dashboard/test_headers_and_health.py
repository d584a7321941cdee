"""Security headers on every response (also in the real browser, where no page may break the policy),
Secure cookies behind HTTPS, and liveness / readiness."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from geo.db.migrate import downgrade
from geo.settings import get_settings
from tests.dashboard.conftest import login, sign_in
from tests.dashboard.pgproxy import SocketProxy

INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)
COMMENT = re.compile(r"<!--.*?-->", re.S)  # e.g. Dash's <!--[if IE]> alert: never run by a browser


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def _assert_hardened(response, where: str) -> dict[str, list[str]]:
    headers = response.headers
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", where
    policy = _directives(headers.get("Content-Security-Policy", ""))
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("default-src") == ["'self'"] and policy.get("object-src") == ["'none'"], where
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"], where
    return policy


def test_pages_api_and_login_carry_the_security_headers(client) -> None:
    _assert_hardened(client.get("/login"), "login page")
    _assert_hardened(client.get("/_dash-layout"), "API without a session (401)")
    _assert_hardened(client.get("/healthz"), "healthz")
    login(client, "admin")
    for path in ("/", "/cases", "/_dash-layout", "/_dash-dependencies", "/assets/app.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_hardened(response, path)
    assert "Secure" not in str(client.get_cookie("session"))  # off by default (plain HTTP in development)


def test_the_policy_allows_exactly_the_inline_scripts_dash_writes(client) -> None:
    login(client, "admin")
    response = client.get("/wall")
    policy = _assert_hardened(response, "/wall")
    inline = [
        m["body"]
        for m in INLINE_SCRIPT.finditer(COMMENT.sub("", response.get_data(as_text=True)))
        if "src=" not in m["attrs"] and "application/json" not in m["attrs"]
    ]
    assert len(inline) >= 2  # the renderer start and the wall's clientside callback
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]


def test_a_tile_server_is_allowed_for_tiles_only(auth_db, monkeypatch) -> None:
    from dashboard.app import create_app

    monkeypatch.setenv("EGIS_BASEMAP", "https://tiles.example/{z}/{x}/{y}.png")
    get_settings.cache_clear()
    policy = _directives(create_app().server.test_client().get("/login").headers["Content-Security-Policy"])
    assert "https://tiles.example" in policy["img-src"] and "https://tiles.example" in policy["connect-src"]
    assert "https://tiles.example" not in policy["script-src"]


def test_secure_cookies_and_hsts_behind_https(auth_db, monkeypatch) -> None:
    from dashboard.app import create_app

    monkeypatch.setenv("EGIS_SECURE_COOKIES", "true")
    get_settings.cache_clear()
    client = create_app().server.test_client()
    response = login(client, "admin", base_url="https://localhost")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


CSP_WATCH = """document.addEventListener('securitypolicyviolation',
    e => (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.mark.browser
def test_no_page_breaks_the_content_security_policy(browser, dash_server: str, seeded) -> None:
    """Every page in headless Chromium under the policy: no violation, maps drawn (MapLibre workers)."""
    visits = [
        (None, "/login", None),
        ("admin", "/", "home-county-map"),
        ("admin", "/cases", None),
        ("admin", "/squad/ZD01", "squad-map"),
        ("chief1", "/street/JL001", "street-map"),
        ("kiosk", "/wall", "wall-map"),
    ]
    for user, path, graph in visits:
        context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
        context.add_init_script(CSP_WATCH)
        page = context.new_page()
        messages: list[str] = []
        page.on("console", lambda m, messages=messages: messages.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e, messages=messages: messages.append(f"pageerror: {e}"))
        if user:
            sign_in(page, dash_server, user)
        response = page.goto(dash_server + path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        if graph:  # a map with a layer drawn by MapLibre (its workers come from blob: URLs)
            page.wait_for_function(
                """(id) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
                    return gd && gd.data && gd.data.some(t => t.meta && t.meta.layer); }""",
                arg=graph,
                timeout=30000,
            )
            page.wait_for_selector(f"#{graph} canvas.maplibregl-canvas", timeout=20000)
        page.wait_for_timeout(2500)
        violations = page.evaluate("window.__csp || []")
        csp_messages = [m for m in messages if "Content Security Policy" in m or "Refused to" in m]
        assert not violations and not csp_messages, (path, violations, csp_messages)
        assert not [m for m in messages if m.startswith(("error", "pageerror"))], (path, messages)
        context.close()


def test_healthz_is_liveness_and_readyz_follows_the_database(auth_db, schema_url: URL, monkeypatch, tmp_path) -> None:
    from dashboard.app import create_app

    if "host" not in schema_url.query:
        pytest.skip("the outage proxy needs a unix-socket database URL (the embedded cluster)")
    host = schema_url.query["host"]
    port = int(schema_url.query.get("port") or schema_url.port or 5432)
    folder = tmp_path / "sock"
    folder.mkdir()
    proxy = SocketProxy(Path(host) / f".s.PGSQL.{port}", folder, port)
    proxy.restore()
    try:
        proxied = schema_url.update_query_dict({"host": str(folder)})
        monkeypatch.setenv("DATABASE_URL", proxied.render_as_string(hide_password=False))
        get_settings.cache_clear()
        client = create_app().server.test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.get_json()["ready"] is True
        proxy.cut()
        assert client.get("/healthz").status_code == 200  # the process lives
        down = client.get("/readyz")
        assert down.status_code == 503 and down.get_json() == {"ready": False, "reason": "数据库不可达"}
        proxy.restore()
        assert client.get("/readyz").status_code == 200
    finally:
        proxy.cut()


def test_readyz_is_not_ready_before_the_migrations_ran(client, auth_db: Engine) -> None:
    assert client.get("/readyz").status_code == 200
    downgrade(auth_db, "0901")
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.get_json()["reason"] == "数据库迁移未到最新"
    assert answer.get_json()["revision"] == "0901"
