"""Login sessions on the Flask server under Dash: login page, kiosk links, the guard on every request.

Pages without a valid session redirect to ``/login``; Dash API requests without one get 401.
A user session is a row of ``user_sessions`` checked on every request, so logout, a new password,
a changed role or a disabled user end it at once in every worker; it also expires after
``USER_SESSION_HOURS``. Kiosk sessions end when their token expires or is revoked. Failed logins
lock the account and the client address for a while (:mod:`dashboard.access.throttle`).
Callbacks ask :func:`current_principal` for the user and pass its scope to the layers.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from html import escape
from pathlib import Path
from urllib.parse import quote, urlsplit

import flask
from dash import Dash
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from dashboard.access.client import client_address
from dashboard.access.roles import Principal
from dashboard.access.store import (
    KIOSK_USER,
    audit,
    authenticate,
    end_session,
    kiosk_principal,
    kiosk_token_valid,
    session_principal,
    start_session,
)
from dashboard.access.throttle import Lock, active_lock, clear_account, record_failure
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
    "/readyz",
)
API_PREFIXES = ("/_dash-", "/_reload-hash", "/export/", "/basemap/", "/basemap-tiles/")  # 401, not a redirect
# Sec-Fetch-Site values of a form posted by the login page itself (or typed in); anything else is
# another site posting into ours.
SAME_ORIGIN_FETCH = ("same-origin", "none")


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


def _remote() -> str:
    """The client address of the current request (``X-Forwarded-For`` only from a trusted proxy)."""
    request = flask.request
    return client_address(
        request.remote_addr, request.headers.get("X-Forwarded-For"), get_settings().trusted_proxy_networks
    )


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``"/"`` (no open redirect after login).

    Accepted: one leading ``/`` followed by a path, no scheme or host however written. Refused:
    ``//host``, ``/\\host`` (browsers read a backslash as a slash), control characters and
    whitespace (browsers drop tabs and newlines, so ``/<tab>/host`` would become ``//host``).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and parts.path.startswith("/") else "/"


def _locked_message(lock: Lock) -> str:
    minutes = max(1, math.ceil((lock.until - dt.datetime.now(dt.UTC)).total_seconds() / 60))
    return f"登录失败次数过多，该账号或本机地址已被临时锁定，请约 {minutes} 分钟后再试"


LOGIN_PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>登录 · {title}</title>
<link rel="stylesheet" href="/assets/app.css"></head>
<body class="login-body"><form class="login-form" method="post" action="/login">
<h1>{title}</h1><p class="login-hint">请使用本局分配的账号登录</p>{error}
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="next" value="{next}">
<label>用户名<input name="username" autocomplete="username" autocapitalize="none" autocorrect="off"
 spellcheck="false" required autofocus></label>
<label>密码<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">登录</button></form></body></html>"""


def install_auth(app: Dash, title: str) -> None:
    """Add login, logout, kiosk links and the request guard to the app's Flask server."""
    server = app.server
    server.secret_key = _secret_key()
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=get_settings().secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=KIOSK_SESSION_DAYS),
    )

    def render_login(error: str = "", status: int = 200):
        csrf = flask.session.get("csrf") or secrets.token_urlsafe(16)
        flask.session["csrf"] = csrf
        html = LOGIN_PAGE.format(
            title=escape(title),
            csrf=csrf,
            next=escape(safe_next(flask.request.values.get("next"))),
            error=f'<p class="login-error">{escape(error)}</p>' if error else "",
        )
        return flask.Response(html, status=status, mimetype="text/html")

    def csrf_ok() -> bool:
        expected = str(flask.session.get("csrf") or "")
        sent = str(flask.request.form.get("csrf") or "")
        fetch_site = flask.request.headers.get("Sec-Fetch-Site", "none")
        return bool(expected and sent) and hmac.compare_digest(sent, expected) and fetch_site in SAME_ORIGIN_FETCH

    @server.route("/login", methods=["GET", "POST"])
    def login():
        if flask.request.method == "GET":
            return render_login()
        if not csrf_ok():
            return render_login("页面已过期，请重新登录", 400)
        form = flask.request.form
        engine, address = reader_engine(), _remote()
        username = str(form.get("username", ""))[:64]
        lock = active_lock(engine, username, address)
        if lock is not None:  # refused before the password is looked at: the answer tells nothing about it
            audit(engine, username, "login_blocked", lock.kind, {"until": lock.until.isoformat()}, address)
            return render_login(_locked_message(lock), 429)
        principal = authenticate(engine, username, str(form.get("password", "")))
        if principal is None:
            locks = record_failure(engine, username, address)
            audit(engine, username, "login_failed", remote_addr=address)
            for new in locks:
                audit(
                    engine,
                    username,
                    "login_locked",
                    new.kind,
                    {"key": new.key, "until": new.until.isoformat()},
                    address,
                )
            return render_login(_locked_message(locks[0]), 429) if locks else render_login("用户名或密码错误", 401)
        clear_account(engine, principal.username)
        token = start_session(engine, principal.username, USER_SESSION_HOURS, address)
        flask.session.clear()
        flask.session.permanent = True
        flask.session.update(sid=token, user=principal.username, expires=time.time() + USER_SESSION_HOURS * 3600)
        audit(engine, principal.username, "login", remote_addr=address)
        target = safe_next(form.get("next"))  # "/" when none was given or it was unsafe
        return flask.redirect(principal.landing_path if target == "/" else target)

    @server.route("/logout")
    def logout():
        session = flask.session
        user, token, label = session.get("user"), str(session.get("sid") or ""), session.get("label")
        session.clear()
        ended = False
        try:
            if token:
                _LAST_KNOWN.pop(f"session:{token}", None)
                ended = end_session(reader_engine(), token)
            if ended or user == KIOSK_USER:
                audit(reader_engine(), user, "logout", target=label, remote_addr=_remote())
        except (OperationalError, DatabaseError) as exc:
            log.warning("logout of %s not recorded: %s", user, exc)
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
            return flask.redirect("/login?next=" + quote(flask.request.full_path.rstrip("?"), safe="/"))
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


# The principal each session had when the database last answered. Every request asks the
# database (so a revoked session ends at once in every worker); only while PostGIS is unreachable
# does a request fall back to this, so pages keep working on their last good data.
_LAST_KNOWN: dict[str, Principal] = {}
_LAST_KNOWN_MAX = 10_000


def _checked(key: str, fetch: Callable[[], Principal | None]) -> Principal | None:
    try:
        principal = fetch()
    except (OperationalError, DatabaseError):
        if key in _LAST_KNOWN:  # database down: trust what we knew, until it is back
            return _LAST_KNOWN[key]
        raise
    if principal is None:
        _LAST_KNOWN.pop(key, None)
    else:
        if len(_LAST_KNOWN) >= _LAST_KNOWN_MAX:
            _LAST_KNOWN.clear()
        _LAST_KNOWN[key] = principal
    return principal


def _session_principal() -> Principal | None:
    session = flask.session
    if float(session.get("expires", 0)) < time.time():
        return None
    engine = reader_engine()
    if session.get("user") == KIOSK_USER:
        token = str(session.get("kiosk") or "")
        if not token:
            return None
        return _checked(f"kiosk:{token}", lambda: kiosk_principal() if kiosk_token_valid(engine, token) else None)
    token = str(session.get("sid") or "")
    if not token:
        return None
    return _checked(f"session:{token}", lambda: session_principal(engine, token))


def forget_principals() -> None:
    """Drop the last known principals (in tests, to simulate a fresh worker)."""
    _LAST_KNOWN.clear()
