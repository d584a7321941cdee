"""Users, kiosk tokens and the audit log in the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from dashboard.auth.passwords import hash_password, verify_password
from dashboard.auth.roles import ROLE_LABELS, Principal
from geo.errors import EgisError
from geo.models import AuditEntry, KioskToken, User

KIOSK_USER = "kiosk"


class AuthError(EgisError):
    """A user-management request that cannot be done (unknown user, bad role …)."""


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
    """Create a user with an argon2-hashed password."""
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
    """Change a user's role (and squad / chief binding)."""
    _check_role(role, squad_code, chief_code)
    _update(engine, username, role=role, squad_code=squad_code, chief_code=chief_code)


def set_password(engine: Engine, username: str, password: str) -> None:
    """Replace a user's password."""
    try:
        _update(engine, username, password_hash=hash_password(password))
    except ValueError as exc:
        raise AuthError(str(exc)) from exc


def set_active(engine: Engine, username: str, active: bool) -> None:
    """Enable or disable a user (disabled users cannot log in; existing sessions end)."""
    _update(engine, username, active=active)


def _update(engine: Engine, username: str, **values: Any) -> None:
    with engine.begin() as conn:
        if conn.execute(update(User).where(User.username == username).values(**values)).rowcount == 0:
            raise AuthError(f"no user {username!r}")


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
        row = conn.execute(select(User.__table__).where(User.username == username)).mappings().first()
    if row is None:
        verify_password(_DUMMY_HASH, password)  # same work for unknown users: no timing oracle
        return None
    if not verify_password(row["password_hash"], password) or not row["active"]:
        return None
    with engine.begin() as conn:
        conn.execute(update(User).where(User.id == row["id"]).values(last_login_at=dt.datetime.now(dt.UTC)))
    return Principal(row["username"], row["role"], row["squad_code"], row["chief_code"], row["display_name"])


def load_principal(engine: Engine, username: str) -> Principal | None:
    """The principal of an active user (called on every request with a session)."""
    if username == KIOSK_USER:
        return Principal(KIOSK_USER, "command_center", display_name="大屏")
    with engine.connect() as conn:
        row = conn.execute(
            select(User.username, User.role, User.squad_code, User.chief_code, User.display_name).where(
                User.username == username, User.active.is_(True)
            )
        ).first()
    return Principal(*row) if row else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_kiosk_token(engine: Engine, label: str, days: int = 365) -> str:
    """A new kiosk token for one wall screen; only its hash is stored. Returns the token."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            insert(KioskToken).values(
                label=label,
                token_hash=_token_hash(token),
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
                KioskToken.token_hash == _token_hash(token),
                KioskToken.revoked.is_(False),
                (KioskToken.expires_at.is_(None)) | (KioskToken.expires_at > dt.datetime.now(dt.UTC)),
            )
        ).scalar()


def audit(
    engine: Engine,
    username: str | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> None:
    """Append one entry to the audit log (logins, exports, views of personal data)."""
    with engine.begin() as conn:
        conn.execute(
            insert(AuditEntry).values(
                username=username, action=action, target=target, detail=detail or {}, remote_addr=remote_addr
            )
        )


_DUMMY_HASH = hash_password("timing-equaliser-" + secrets.token_hex(8))
