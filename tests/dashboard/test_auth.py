"""Access control: password hashing, roles and scopes, login sessions, kiosk tokens, audit log, 4xx on bad requests."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from dashboard.access.passwords import hash_password, verify_password
from dashboard.access.roles import Principal, scope_for
from dashboard.access.store import AuthError, add_user, create_kiosk_token, revoke_kiosk_token, set_active, set_role
from dashboard.access.web import safe_next
from geo.settings import PROJECT_ROOT
from tests.dashboard.conftest import AUTH_PASSWORD as PASSWORD
from tests.dashboard.conftest import login


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
    assert login(client, "admin", "wrong-password").status_code == 401
    assert login(client, "nobody").status_code == 401
    response = login(client, "admin")
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


def test_a_login_post_without_cookie_or_token_logs_nobody_in(client, auth_db: Engine) -> None:
    """Login CSRF: an empty token must not match an empty session (a page elsewhere posting the form)."""
    for form in (
        {"username": "admin", "password": PASSWORD},
        {"username": "admin", "password": PASSWORD, "csrf": ""},
    ):
        client.delete_cookie("session")
        response = client.post("/login", data=form)
        assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
        assert client.get("/_dash-layout").status_code == 401
    assert ("admin", "login") not in _audit(auth_db)


def test_a_login_posted_by_another_site_is_refused_even_with_a_token(client) -> None:
    client.get("/login")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    form = {"username": "admin", "password": PASSWORD, "csrf": csrf}
    response = client.post("/login", data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/login", data=form, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 302


CRAFTED_NEXT = [
    "https://evil.example/",
    "//evil.example",
    "////evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "evil.example",
]


def test_open_redirects_are_refused(client) -> None:
    for target in CRAFTED_NEXT:
        response = login(client, "admin", next_=target)
        assert response.status_code == 302 and response.headers["Location"] == "/", target
        client.get("/logout")
    # a next given in the query string arrives decoded: %2F%2F is // there
    client.get("/login?next=%2F%2Fevil.example")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    response = client.post(
        "/login?next=%2F%2Fevil.example", data={"username": "admin", "password": PASSWORD, "csrf": csrf}
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", CRAFTED_NEXT)
def test_safe_next_keeps_only_paths_of_this_site(target: str) -> None:
    assert safe_next(target) == "/"


def test_a_page_asked_for_before_login_is_opened_after_it(client) -> None:
    asked = client.get("/cases?tab=all&window=30")
    assert asked.status_code == 302
    form = client.get(asked.headers["Location"]).get_data(as_text=True)
    hidden = re.search(r'name="next" value="([^"]*)"', form)
    assert hidden is not None
    next_ = html.unescape(hidden.group(1))
    response = login(client, "admin", next_=next_)
    assert response.headers["Location"] == "/cases?tab=all&window=30"  # the whole query came back, nothing else


def test_sessions_expire(client) -> None:
    login(client, "admin")
    assert client.get("/_dash-layout").status_code == 200
    with client.session_transaction() as session:
        session["expires"] = time.time() - 1
    assert client.get("/_dash-layout").status_code == 401


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app_client, cookie: str) -> int:
    """Status of a Dash API request made by another browser holding a copy of ``cookie``."""
    app_client.set_cookie("session", cookie)
    return app_client.get("/_dash-layout").status_code


def test_a_cookie_copied_before_logout_is_worthless_after_it(client, auth_db: Engine) -> None:
    login(client, "admin")
    stolen = _session_cookie(client)
    other = client.application.test_client()
    assert _replay(other, stolen) == 200
    client.get("/logout")
    assert _replay(other, stolen) == 401
    page = other.get("/cases")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert _audit(auth_db)[-1] == ("admin", "logout")


def test_logout_ends_only_its_own_session(client) -> None:
    login(client, "admin")
    desktop = client.application.test_client()
    login(desktop, "admin")
    client.get("/logout")
    assert client.get("/_dash-layout").status_code == 401
    assert desktop.get("/_dash-layout").status_code == 200


def test_disabled_user_loses_access(client, auth_db: Engine) -> None:
    login(client, "leader3")
    stolen = _session_cookie(client)
    assert client.get("/_dash-layout").status_code == 200
    set_active(auth_db, "leader3", False)
    assert client.get("/_dash-layout").status_code == 401  # at once, no cache period
    set_active(auth_db, "leader3", True)
    assert _replay(client.application.test_client(), stolen) == 401  # enabling again does not revive it


def test_a_new_role_ends_the_sessions_of_the_old_one(client, auth_db: Engine) -> None:
    login(client, "leader3")
    set_role(auth_db, "leader3", "viewer")
    assert client.get("/_dash-layout").status_code == 401
    login(client, "leader3")
    assert client.get("/_dash-layout").status_code == 200


def test_password_change_and_disabling_on_the_command_line_end_open_sessions(
    client, auth_db: Engine, schema_url: URL
) -> None:
    env = dict(os.environ, DATABASE_URL=schema_url.render_as_string(hide_password=False))

    def run(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "dashboard", "users", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
        )
        assert done.returncode == 0, done.stderr

    admin = client.application.test_client()
    login(admin, "admin")
    login(client, "leader3")
    stolen = _session_cookie(client)
    run("passwd", "leader3", "--password", "a-new-password-7")
    assert _replay(client.application.test_client(), stolen) == 401
    assert admin.get("/_dash-layout").status_code == 200  # other users keep their sessions
    assert login(client, "leader3").status_code == 401  # the old password is gone
    assert login(client, "leader3", "a-new-password-7").status_code == 302
    stolen = _session_cookie(client)
    run("disable", "leader3")
    assert _replay(client.application.test_client(), stolen) == 401
    with auth_db.connect() as conn:
        changes = conn.execute(
            text("SELECT target, detail->>'sessions_revoked' FROM audit_log WHERE action = 'user_changed' ORDER BY id")
        ).all()
    assert changes == [("password_changed", "1"), ("disabled", "1")]


def test_kiosk_token_opens_the_wall_only_until_revoked(client, auth_db: Engine) -> None:
    token = create_kiosk_token(auth_db, "大厅1号屏")
    assert client.get("/kiosk?token=forged").status_code == 403
    response = client.get(f"/kiosk?token={token}")
    assert response.status_code == 302 and response.headers["Location"] == "/wall"
    assert client.get("/cases").headers["Location"] == "/wall"
    assert client.get("/_dash-layout").status_code == 200
    revoke_kiosk_token(auth_db, "大厅1号屏")
    assert client.get("/_dash-layout").status_code == 401  # at once, no cache period
    with auth_db.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM kiosk_tokens")).scalar()
    assert token not in stored  # only the hash is kept


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{}", b'{"output": "x.y", "inputs": "zzz"}', b'{"output": 5, "changedPropIds": [null]}'],
)
def test_malformed_callback_requests_get_4xx_without_traceback(client, body: bytes) -> None:
    login(client, "admin")
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


def test_demo_accounts_are_created_once_each_with_a_password_of_its_own(auth_db: Engine, tmp_path) -> None:
    from dashboard.access.demo import credentials_file, demo_credentials, ensure_demo_users, kiosk_link
    from dashboard.access.store import authenticate

    with auth_db.begin() as conn:
        conn.execute(text("INSERT INTO squads (code, name) VALUES ('ZD01', '白洋中队')"))
        conn.execute(text("INSERT INTO street_chiefs (code, name, squad_code) VALUES ('JZ0001', '王某', 'ZD01')"))
    add_user(auth_db, "zhihui", "an-old-shared-password", "command_center")  # made by an older version
    first = ensure_demo_users(auth_db)
    assert first["zd01"] == "squad_leader" and first["jz0001"] == "street_chief" and first["zhihui"] == "command_center"
    passwords = demo_credentials()
    assert set(passwords) == set(first)
    assert len(set(passwords.values())) == len(passwords)  # no two accounts share a password
    link = kiosk_link()
    assert link and "/kiosk?token=" in link
    assert credentials_file().stat().st_mode & 0o777 == 0o600
    assert ensure_demo_users(auth_db) == first and demo_credentials() == passwords and kiosk_link() == link
    principal = authenticate(auth_db, "zd01", passwords["zd01"])
    assert principal is not None and principal.scope.squads == ("ZD01",)
    assert authenticate(auth_db, "zd01", passwords["admin"]) is None
    assert authenticate(auth_db, "zhihui", "an-old-shared-password") is None  # got a password of its own
    assert authenticate(auth_db, "zhihui", passwords["zhihui"]) is not None
