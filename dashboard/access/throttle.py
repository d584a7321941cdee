"""Login lockout: failed logins counted per account and per client address, in the database.

Every worker of a deployment sees the same counts and locks. Thresholds come from the settings
(``EGIS_LOGIN_MAX_FAILURES``, ``…_PER_ADDRESS``, ``EGIS_LOGIN_WINDOW_MIN``, ``EGIS_LOGIN_LOCKOUT_MIN``).
Accounts are keyed by the username in its normal form, so every spelling of one name (``JLZ01001``,
``jlz01001``) counts together. Failures are counted within the window and since the key's last lock
ended; reaching a threshold locks the account or address for the lockout time. A successful login
resets its account's count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dashboard.access.store import normal_username
from geo.models import LoginFailure, LoginLock
from geo.settings import get_settings


@dataclass(frozen=True)
class Lock:
    """A lock in force: ``kind`` is 'account' or 'address', ``key`` the username or address."""

    kind: str
    key: str
    until: dt.datetime


def _limits() -> dict[str, int]:
    settings = get_settings()
    limits = {"account": settings.login_max_failures, "address": settings.login_max_failures_per_address}
    return {kind: limit for kind, limit in limits.items() if limit > 0}


def _keys(username: str, address: str) -> dict[str, str]:
    """The lock keys of a login: the username in its normal form (any case counts together) and the address."""
    return {"account": normal_username(username), "address": address}


def active_lock(engine: Engine, username: str, address: str) -> Lock | None:
    """The lock (of the account or of the address) that refuses this login now, else None."""
    keys = _keys(username, address)
    wanted = [and_(LoginLock.kind == kind, LoginLock.key == keys[kind]) for kind in _limits()]
    if not wanted:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(LoginLock.kind, LoginLock.key, LoginLock.locked_until)
            .where(or_(*wanted), LoginLock.locked_until > func.now())
            .order_by(LoginLock.locked_until.desc())
            .limit(1)
        ).first()
    return Lock(*row) if row else None


def record_failure(engine: Engine, username: str, address: str) -> list[Lock]:
    """Count one failed login; returns the locks this failure imposed (empty while under the limits)."""
    settings = get_settings()
    window = dt.timedelta(minutes=settings.login_window_min)
    lockout = dt.timedelta(minutes=settings.login_lockout_min)
    keys = _keys(username, address)
    locks: list[Lock] = []
    with engine.begin() as conn:
        conn.execute(delete(LoginFailure).where(LoginFailure.ts < func.now() - window))
        conn.execute(delete(LoginLock).where(LoginLock.locked_until < func.now() - window))
        conn.execute(insert(LoginFailure).values(username=keys["account"], remote_addr=address))
        for kind, limit in _limits().items():
            if _failures(conn, kind, keys[kind], window) < limit:
                continue
            until = conn.execute(
                pg_insert(LoginLock)
                .values(kind=kind, key=keys[kind], locked_until=func.now() + lockout)
                .on_conflict_do_update(
                    index_elements=[LoginLock.kind, LoginLock.key], set_={"locked_until": func.now() + lockout}
                )
                .returning(LoginLock.locked_until)
            ).scalar_one()
            locks.append(Lock(kind, keys[kind], until))
    return locks


def _failures(conn: Connection, kind: str, key: str, window: dt.timedelta) -> int:
    """Failures of ``key`` within the window and after its last lock ended."""
    column = LoginFailure.username if kind == "account" else LoginFailure.remote_addr
    last_lock = select(LoginLock.locked_until).where(LoginLock.kind == kind, LoginLock.key == key).scalar_subquery()
    start = func.now() - window
    since = func.greatest(start, func.coalesce(last_lock, start))
    count = select(func.count()).select_from(LoginFailure).where(column == key, LoginFailure.ts > since)
    return conn.execute(count).scalar_one()


def clear_account(engine: Engine, username: str) -> None:
    """Forget the failed logins of ``username`` (after it logged in successfully)."""
    with engine.begin() as conn:
        conn.execute(delete(LoginFailure).where(LoginFailure.username == normal_username(username)))
