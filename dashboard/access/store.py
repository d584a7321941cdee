"""Users, their login sessions, kiosk tokens and the audit log in the database."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import ColumnElement, Engine, String, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from dashboard.access.passwords import hash_password, verify_password
from dashboard.access.roles import ROLE_LABELS, Principal
from geo.db import Bind, transaction
from geo.errors import EgisError
from geo.models import AuditEntry, KioskToken, User, UserSession
from geo.tokens import new_token, token_hash

KIOSK_USER = "kiosk"


class AuthError(EgisError):
    """A user-management request that cannot be done (unknown user, bad role …)."""


def normal_username(username: str) -> str:
    """The one form of a username: usernames are case-insensitive (``JLZ01001`` is ``jlz01001``).

    Surrounding whitespace is dropped and letters are lower-cased; every lookup, every new user
    and the login lockout key go through this function.
    """
    return username.strip().lower()


def _named(username: str) -> ColumnElement[bool]:
    """The clause selecting the user called ``username`` in any case (served by the lower(username) index)."""
    return func.lower(User.username) == normal_username(username)


def _check_role(role: str, squad_code: str | None, chief_code: str | None) -> None:
    if role not in ROLE_LABELS:
        raise AuthError(f"unknown role {role!r}; roles: {', '.join(ROLE_LABELS)}")
    if role == "squad_leader" and not squad_code:
        raise AuthError("a squad_leader needs --squad (the squad code, e.g. ZD01)")
    if role == "street_chief" and not chief_code:
        raise AuthError("a street_chief needs --chief (the street chief's code)")


def add_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    *,
    squad_code: str | None = None,
    chief_code: str | None = None,
    display_name: str | None = None,
) -> None:
    """Create a user with an argon2-hashed password; the username is stored in its normal form."""
    username = normal_username(username)
    _check_role(role, squad_code, chief_code)
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise AuthError(str(exc)) from exc
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(User).values(
                    username=username,
                    password_hash=hashed,
                    role=role,
                    squad_code=squad_code,
                    chief_code=chief_code,
                    display_name=display_name,
                )
            )
    except IntegrityError as exc:
        raise AuthError(f"user {username!r} exists already") from exc


def set_role(
    engine: Engine, username: str, role: str, *, squad_code: str | None = None, chief_code: str | None = None
) -> None:
    """Change a user's role (and squad / chief binding); the user's open sessions end."""
    _check_role(role, squad_code, chief_code)
    _update(engine, username, "role_changed", role=role, squad_code=squad_code, chief_code=chief_code)


def set_password(engine: Engine, username: str, password: str) -> None:
    """Replace a user's password; the user's open sessions end."""
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise AuthError(str(exc)) from exc
    _update(engine, username, "password_changed", password_hash=hashed)


def set_active(engine: Engine, username: str, active: bool) -> None:
    """Enable or disable a user (disabled users cannot log in; their open sessions end)."""
    _update(engine, username, "enabled" if active else "disabled", active=active)


def _update(engine: Engine, username: str, change: str, **values: Any) -> None:
    """Apply ``values`` to the user, end their sessions and audit both, in one transaction."""
    with engine.begin() as conn:
        user_id = conn.execute(update(User).where(_named(username)).values(**values).returning(User.id)).scalar()
        if user_id is None:
            raise AuthError(f"no user {username!r}")
        ended = conn.execute(delete(UserSession).where(UserSession.user_id == user_id)).rowcount
        audit(conn, username, "user_changed", target=change, detail={"sessions_revoked": ended})


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """Every user without the password hash."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                User.username,
                User.display_name,
                User.role,
                User.squad_code,
                User.chief_code,
                User.active,
                User.last_login_at,
            ).order_by(User.username)
        ).mappings()
        return [dict(r) for r in rows]


def authenticate(engine: Engine, username: str, password: str) -> Principal | None:
    """The principal for valid credentials of an active user, else None (same answer for every failure)."""
    with engine.connect() as conn:
        row = conn.execute(select(User.__table__).where(_named(username))).mappings().first()
    if row is None:
        verify_password(_DUMMY_HASH, password)  # same work for unknown users: no timing oracle
        return None
    if not verify_password(row["password_hash"], password) or not row["active"]:
        return None
    with engine.begin() as conn:
        conn.execute(update(User).where(User.id == row["id"]).values(last_login_at=dt.datetime.now(dt.UTC)))
    return Principal(row["username"], row["role"], row["squad_code"], row["chief_code"], row["display_name"])


def kiosk_principal() -> Principal:
    """The principal of a wall screen logged in by a kiosk link."""
    return Principal(KIOSK_USER, "command_center", display_name="大屏")


def start_session(engine: Engine, username: str, hours: float, remote_addr: str | None = None) -> str:
    """Open a login session for ``username``; returns its token (for the signed session cookie).

    Expired sessions of every user are dropped on the way.
    """
    token = new_token()
    with engine.begin() as conn:
        conn.execute(delete(UserSession).where(UserSession.expires_at < func.now()))
        conn.execute(
            insert(UserSession).from_select(
                ["token_hash", "user_id", "expires_at", "remote_addr"],
                select(
                    literal(token_hash(token), String(64)),
                    User.id,
                    func.now() + dt.timedelta(hours=hours),
                    literal(remote_addr, String(64)),
                ).where(_named(username)),
            )
        )
    return token


def session_principal(engine: Engine, token: str) -> Principal | None:
    """The principal of an open, unexpired session of an active user, else None (every request)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(User.username, User.role, User.squad_code, User.chief_code, User.display_name)
            .join(UserSession, UserSession.user_id == User.id)
            .where(
                UserSession.token_hash == token_hash(token),
                UserSession.expires_at > func.now(),
                User.active.is_(True),
            )
        ).first()
    return Principal(*row) if row else None


def end_session(engine: Engine, token: str) -> bool:
    """End one session (logout); True when it was open."""
    with engine.begin() as conn:
        return conn.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token))).rowcount > 0


def create_kiosk_token(engine: Engine, label: str, days: int = 365) -> str:
    """A new kiosk token for one wall screen; only its hash is stored. Returns the token."""
    token = new_token()
    with engine.begin() as conn:
        conn.execute(
            insert(KioskToken).values(
                label=label,
                token_hash=token_hash(token),
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=days),
            )
        )
    return token


def revoke_kiosk_token(engine: Engine, label: str) -> int:
    """Revoke every token with ``label``; returns how many."""
    with engine.begin() as conn:
        return conn.execute(update(KioskToken).where(KioskToken.label == label).values(revoked=True)).rowcount


def kiosk_token_valid(engine: Engine, token: str) -> str | None:
    """The label of a valid (known, unrevoked, unexpired) token, else None."""
    with engine.connect() as conn:
        return conn.execute(
            select(KioskToken.label).where(
                KioskToken.token_hash == token_hash(token),
                KioskToken.revoked.is_(False),
                (KioskToken.expires_at.is_(None)) | (KioskToken.expires_at > dt.datetime.now(dt.UTC)),
            )
        ).scalar()


def audit(
    bind: Bind,
    username: str | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> None:
    """Append one entry to the audit log (logins, lockouts, changes of users, exports, views of personal data).

    Given a Connection, the entry is part of the caller's transaction.
    """
    with transaction(bind) as conn:
        conn.execute(
            insert(AuditEntry).values(
                username=username, action=action, target=target, detail=detail or {}, remote_addr=remote_addr
            )
        )


_DUMMY_HASH = hash_password("timing-equaliser-" + secrets.token_hex(8))
