"""Login sessions on the Flask server under Dash: login page, kiosk links, the guard on every request.

Pages without a valid session redirect to ``/login``; Dash API requests without one get 401.
Sessions expire (users after ``USER_SESSION_HOURS``, kiosks when their token expires or is
revoked). Callbacks ask :func:`current_principal` for the user and pass its scope to the layers.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
import time
from html import escape
from pathlib import Path
from urllib.parse import urlparse

import flask
from dash import Dash
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from dashboard.auth.roles import Principal
from dashboard.auth.store import KIOSK_USER, audit, authenticate, kiosk_token_valid, load_principal
from geo.db import reader_engine
from geo.errors import DatabaseError
from geo.settings import get_settings

log = logging.getLogger(__name__)

USER_SESSION_HOURS = 8
KIOSK_SESSION_DAYS = 30
PUBLIC_PREFIXES = (
    "/login",
    "/logout",
    "/kiosk",
    "/assets/",
    "/_dash-component-suites/",
    "/_favicon.ico",
    "/favicon.ico",
    "/healthz",
)
API_PREFIXES = ("/_dash-", "/_reload-hash", "/export/")


def _secret_key() -> str:
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key
    # Not configured: a random key kept in var/ (never committed), so sessions survive restarts
    # and every worker of one deployment shares it. Set EGIS_SECRET_KEY in production.
    path = Path(settings.var_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def current_principal() -> Principal:
    """The logged-in principal of the current request.

    Raises
    ------
    PermissionError
        Outside a request with a valid session (the guard answers 401/403 before that happens).
    """
    principal = getattr(flask.g, "principal", None)
    if principal is None:
        raise PermissionError("not logged in")
    return principal


def audit_request(action: str, target: str | None = None, detail: dict | None = None) -> None:
    """Write an audit entry for the current request's user (exports, views of personal data).

    A failed audit write is logged, never allowed to break the page.
    """
    principal = getattr(flask.g, "principal", None)
    try:
        audit(reader_engine(), principal.username if principal else None, action, target, detail, _remote())
    except (OperationalError, DatabaseError) as exc:
        log.warning("audit entry %s not written: %s", action, exc)


def _remote() -> str | None:
    return flask.request.headers.get("X-Forwarded-For", flask.request.remote_addr)


def _safe_next(target: str | None) -> str:
    if not target:
        return "/"
    parsed = urlparse(target)
    return target if not parsed.scheme and not parsed.netloc and target.startswith("/") else "/"


LOGIN_PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>登录 · {title}</title>
<link rel="stylesheet" href="/assets/app.css"></head>
<body class="login-body"><form class="login-form" method="post" action="/login">
<h1>{title}</h1><p class="login-hint">请使用本局分配的账号登录</p>{error}
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="next" value="{next}">
<label>用户名<input name="username" autocomplete="username" required autofocus></label>
<label>密码<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">登录</button></form></body></html>"""


def install_auth(app: Dash, title: str) -> None:
    """Add login, logout, kiosk links and the request guard to the app's Flask server."""
    server = app.server
    server.secret_key = _secret_key()
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=KIOSK_SESSION_DAYS),
    )

    def render_login(error: str = "", status: int = 200):
        csrf = flask.session.setdefault("csrf", secrets.token_urlsafe(16))
        html = LOGIN_PAGE.format(
            title=escape(title),
            csrf=csrf,
            next=escape(_safe_next(flask.request.values.get("next"))),
            error=f'<p class="login-error">{escape(error)}</p>' if error else "",
        )
        return flask.Response(html, status=status, mimetype="text/html")

    @server.route("/login", methods=["GET", "POST"])
    def login():
        if flask.request.method == "GET":
            return render_login()
        form = flask.request.form
        if not hmac.compare_digest(str(form.get("csrf", "")), str(flask.session.get("csrf", ""))):
            return render_login("页面已过期，请重新登录", 400)
        username = str(form.get("username", ""))[:64]
        principal = authenticate(reader_engine(), username, str(form.get("password", "")))
        if principal is None:
            audit(reader_engine(), username, "login_failed", remote_addr=_remote())
            return render_login("用户名或密码错误", 401)
        flask.session.clear()
        flask.session.permanent = True
        flask.session.update(user=principal.username, expires=time.time() + USER_SESSION_HOURS * 3600)
        audit(reader_engine(), principal.username, "login", remote_addr=_remote())
        return flask.redirect(_safe_next(form.get("next")))

    @server.route("/logout")
    def logout():
        user = flask.session.get("user")
        flask.session.clear()
        if user:
            audit(reader_engine(), user, "logout", remote_addr=_remote())
        return flask.redirect("/login")

    @server.route("/kiosk")
    def kiosk():
        token = flask.request.args.get("token", "")
        label = kiosk_token_valid(reader_engine(), token) if token else None
        if label is None:
            audit(reader_engine(), KIOSK_USER, "kiosk_denied", remote_addr=_remote())
            return flask.Response("大屏令牌无效或已过期", status=403, mimetype="text/plain")
        flask.session.clear()
        flask.session.permanent = True
        flask.session.update(
            user=KIOSK_USER, kiosk=token, label=label, expires=time.time() + KIOSK_SESSION_DAYS * 86400
        )
        audit(reader_engine(), KIOSK_USER, "login", target=label, remote_addr=_remote())
        return flask.redirect("/wall")

    @server.route("/healthz")
    def healthz():
        return {"ok": True}

    @server.before_request
    def guard():
        path = flask.request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        principal = _session_principal()
        is_api = path.startswith(API_PREFIXES)
        if principal is None:
            if is_api:
                return flask.jsonify(error="未登录或会话已过期"), 401
            return flask.redirect(f"/login?next={flask.request.full_path.rstrip('?')}")
        flask.g.principal = principal
        if not is_api and not principal.may_open(path):
            if principal.role == "command_center":
                return flask.redirect("/wall")
            return flask.Response("无权访问此页面", status=403, mimetype="text/plain")
        return None

    @server.errorhandler(Exception)
    def errors(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        if isinstance(exc, PermissionError):
            return flask.jsonify(error="无权访问"), 403
        if isinstance(exc, (DatabaseError, OperationalError)):
            log.warning("database unavailable: %s", exc)
            return flask.jsonify(error="数据库暂时不可用"), 503
        log.exception("request failed: %s %s", flask.request.method, flask.request.path)
        if flask.request.path.startswith(API_PREFIXES):
            return flask.jsonify(error="请求无效"), 400
        return flask.Response("服务器错误", status=500, mimetype="text/plain")


# Principals looked up recently, so that a request does not need the database to know its user,
# and pages keep working on their last good data while PostGIS is unreachable.
_PRINCIPALS: dict[str, tuple[Principal | None, float]] = {}
PRINCIPAL_TTL_S = 30.0


def _lookup(key: str, fetch) -> Principal | None:
    cached = _PRINCIPALS.get(key)
    if cached and time.monotonic() - cached[1] < PRINCIPAL_TTL_S:
        return cached[0]
    try:
        principal = fetch()
    except (OperationalError, DatabaseError):
        if cached:  # database down: trust what we knew, until it is back
            return cached[0]
        raise
    _PRINCIPALS[key] = (principal, time.monotonic())
    return principal


def _session_principal() -> Principal | None:
    session = flask.session
    user = session.get("user")
    if not user or float(session.get("expires", 0)) < time.time():
        return None
    engine = reader_engine()
    if user == KIOSK_USER:
        token = str(session.get("kiosk", ""))

        def fetch_kiosk() -> Principal | None:
            return load_principal(engine, KIOSK_USER) if token and kiosk_token_valid(engine, token) else None

        return _lookup(f"kiosk:{token}", fetch_kiosk)
    return _lookup(f"user:{user}", lambda: load_principal(engine, user))


def forget_principals() -> None:
    """Drop the cache of principals (after changing users, and in tests)."""
    _PRINCIPALS.clear()
