"""Access control: password hashing, roles and scopes, login sessions, kiosk tokens, audit log, 4xx on bad requests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from dashboard.auth.passwords import hash_password, verify_password
from dashboard.auth.roles import Principal, scope_for
from dashboard.auth.store import AuthError, add_user, create_kiosk_token, revoke_kiosk_token, set_active
from dashboard.auth.web import forget_principals
from geo.settings import PROJECT_ROOT, get_settings

PASSWORD = "correct-horse-42"


def test_passwords_are_argon2_hashes() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, "wrong-password")
    assert not verify_password("not-a-hash", PASSWORD)
    with pytest.raises(ValueError, match="at least 8"):
        hash_password("short")


@pytest.mark.parametrize(
    "role,squad,chief,expected",
    [
        ("admin", None, None, dict(squads=None, personal_data=True, aggregates_only=False)),
        ("command_center", None, None, dict(squads=None, personal_data=False, aggregates_only=True)),
        ("squad_leader", "ZD03", None, dict(squads=("ZD03",), personal_data=True, aggregates_only=False)),
        ("street_chief", "ZD03", "JZ0007", dict(squads=("ZD03",), chief_code="JZ0007", personal_data=False)),
        ("viewer", None, None, dict(aggregates_only=True, personal_data=False)),
        ("squad_leader", None, None, dict(squads=(), aggregates_only=True)),  # misconfigured: nothing
    ],
)
def test_role_scopes(role, squad, chief, expected) -> None:
    scope = scope_for(role, squad, chief)
    for key, value in expected.items():
        assert getattr(scope, key) == value


def test_kiosk_may_open_only_the_wall() -> None:
    kiosk = Principal("kiosk", "command_center")
    assert kiosk.may_open("/wall") and not kiosk.may_open("/cases") and not kiosk.may_open("/")
    assert Principal("a", "admin").may_open("/cases")


@pytest.fixture
def auth_db(schema_url: URL, schema_engine: Engine, monkeypatch, tmp_path) -> Iterator[Engine]:
    """DATABASE_URL pointed at a fresh schema (var/ in a temporary folder), with two users."""
    monkeypatch.setenv("DATABASE_URL", schema_url.render_as_string(hide_password=False))
    monkeypatch.setenv("EGIS_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    forget_principals()
    add_user(schema_engine, "admin", PASSWORD, "admin")
    add_user(schema_engine, "leader3", PASSWORD, "squad_leader", squad_code="ZD03")
    yield schema_engine
    forget_principals()
    get_settings.cache_clear()


@pytest.fixture
def client(auth_db: Engine):
    from dashboard.app import create_app

    return create_app().server.test_client()


def _login(client, username: str, password: str = PASSWORD):
    client.get("/login")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    return client.post("/login", data={"username": username, "password": password, "csrf": csrf, "next": "/cases"})


def _audit(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT username, action FROM audit_log ORDER BY id"))]


def test_pages_and_api_need_a_session(client) -> None:
    page = client.get("/cases")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/cases")
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/login").status_code == 200
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_login_logout_and_audit(client, auth_db: Engine) -> None:
    assert _login(client, "admin", "wrong-password").status_code == 401
    assert _login(client, "nobody").status_code == 401
    response = _login(client, "admin")
    assert response.status_code == 302 and response.headers["Location"] == "/cases"
    assert client.get("/_dash-layout").status_code == 200
    client.get("/logout")
    assert client.get("/_dash-layout").status_code == 401
    assert _audit(auth_db) == [
        ("admin", "login_failed"),
        ("nobody", "login_failed"),
        ("admin", "login"),
        ("admin", "logout"),
    ]


def test_login_needs_the_csrf_token(client) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 400


def test_open_redirects_are_refused(client) -> None:
    client.get("/login")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    response = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf": csrf, "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"


def test_sessions_expire(client) -> None:
    _login(client, "admin")
    assert client.get("/_dash-layout").status_code == 200
    with client.session_transaction() as session:
        session["expires"] = time.time() - 1
    assert client.get("/_dash-layout").status_code == 401


def test_disabled_user_loses_access(client, auth_db: Engine) -> None:
    _login(client, "leader3")
    assert client.get("/_dash-layout").status_code == 200
    set_active(auth_db, "leader3", False)
    forget_principals()
    assert client.get("/_dash-layout").status_code == 401


def test_kiosk_token_opens_the_wall_only_until_revoked(client, auth_db: Engine) -> None:
    token = create_kiosk_token(auth_db, "大厅1号屏")
    assert client.get("/kiosk?token=forged").status_code == 403
    response = client.get(f"/kiosk?token={token}")
    assert response.status_code == 302 and response.headers["Location"] == "/wall"
    assert client.get("/cases").headers["Location"] == "/wall"
    assert client.get("/_dash-layout").status_code == 200
    revoke_kiosk_token(auth_db, "大厅1号屏")
    forget_principals()
    assert client.get("/_dash-layout").status_code == 401
    with auth_db.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM kiosk_tokens")).scalar()
    assert token not in stored  # only the hash is kept


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{}", b'{"output": "x.y", "inputs": "zzz"}', b'{"output": 5, "changedPropIds": [null]}'],
)
def test_malformed_callback_requests_get_4xx_without_traceback(client, body: bytes) -> None:
    _login(client, "admin")
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "Traceback" not in response.get_data(as_text=True)


def test_user_management_errors_are_clear(auth_db: Engine) -> None:
    with pytest.raises(AuthError, match="exists already"):
        add_user(auth_db, "admin", PASSWORD, "admin")
    with pytest.raises(AuthError, match="unknown role"):
        add_user(auth_db, "x", PASSWORD, "superuser")
    with pytest.raises(AuthError, match="needs --squad"):
        add_user(auth_db, "y", PASSWORD, "squad_leader")


def test_users_command_line(schema_url: URL) -> None:
    env = dict(os.environ, DATABASE_URL=schema_url.render_as_string(hide_password=False))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dashboard", *args], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT
        )

    added = run("users", "add", "chief7", "--role", "street_chief", "--chief", "JZ0007", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    listed = run("users", "list")
    assert "chief7" in listed.stdout and "street_chief" in listed.stdout and PASSWORD not in listed.stdout
    bad = run("users", "add", "z", "--role", "boss", "--password", PASSWORD)
    assert bad.returncode == 1 and "unknown role" in bad.stderr and "Traceback" not in bad.stderr
    link = run("kiosk", "create", "大厅2号屏")
    assert link.returncode == 0 and "/kiosk?token=" in link.stdout


def test_demo_accounts_are_created_once(auth_db: Engine) -> None:
    from dashboard.auth.demo import demo_password, ensure_demo_users
    from dashboard.auth.store import authenticate

    with auth_db.begin() as conn:
        conn.execute(text("INSERT INTO squads (code, name) VALUES ('ZD01', '白洋中队')"))
        conn.execute(text("INSERT INTO street_chiefs (code, name, squad_code) VALUES ('JZ0001', '王某', 'ZD01')"))
    first = ensure_demo_users(auth_db)
    assert first["zd01"] == "squad_leader" and first["jz0001"] == "street_chief" and first["zhihui"] == "command_center"
    assert ensure_demo_users(auth_db) == first
    principal = authenticate(auth_db, "zd01", demo_password())
    assert principal is not None and principal.scope.squads == ("ZD01",)
