"""Ingest API tokens: one per source and the kinds it may send, stored hashed (``python -m etl tokens``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from geo.errors import EgisError
from geo.models import INGEST_KINDS, IngestToken
from geo.tokens import new_token, token_hash


@dataclass(frozen=True)
class TokenCheck:
    """What a presented token is: its source and kinds, or why it is refused (``status`` 401 or 403)."""

    source: str | None
    kinds: tuple[str, ...] = ()
    status: int = 200
    problem: str | None = None


def create_token(engine: Engine, source: str, kinds: list[str], expires_days: float | None = None) -> str:
    """A new token for ``source`` allowed to send ``kinds``; only its hash is stored. Returns the token.

    Raises
    ------
    EgisError
        When the source name is empty or too long, or a kind is unknown.
    """
    source = source.strip()
    if not source or len(source) > 64:
        raise EgisError("the source name must be 1 to 64 characters")
    unknown = [k for k in kinds if k not in INGEST_KINDS]
    if unknown or not kinds:
        raise EgisError(f"kinds must be some of {', '.join(INGEST_KINDS)}, not {', '.join(unknown) or 'none'}")
    token = new_token()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days) if expires_days else None
    with engine.begin() as conn:
        conn.execute(
            insert(IngestToken).values(
                source=source, kinds=sorted(set(kinds)), token_hash=token_hash(token), expires_at=expires
            )
        )
    return token


def revoke_tokens(engine: Engine, source: str) -> int:
    """Revoke every active token of ``source``; returns how many."""
    with engine.begin() as conn:
        return conn.execute(
            update(IngestToken)
            .where(IngestToken.source == source, IngestToken.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC))
        ).rowcount


def list_tokens(engine: Engine) -> list[dict]:
    """Every token (never the token itself): id, source, kinds, created, expires, revoked."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                IngestToken.id,
                IngestToken.source,
                IngestToken.kinds,
                IngestToken.created_at,
                IngestToken.expires_at,
                IngestToken.revoked_at,
            ).order_by(IngestToken.id)
        ).mappings()
        return [dict(r) for r in rows]


def check_token(bind: Engine | Connection, token: str, kind: str) -> TokenCheck:
    """Whether ``token`` may send ``kind`` now: 401 unknown, expired or revoked; 403 another kind.

    Given a connection, the check is its first statement (the request's transaction begins with it).
    """
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return check_token(conn, token, kind)
    row = bind.execute(
        select(IngestToken.source, IngestToken.kinds, IngestToken.expires_at, IngestToken.revoked_at).where(
            IngestToken.token_hash == token_hash(token)
        )
    ).first()
    if row is None:
        return TokenCheck(None, status=401, problem="unknown token")
    if row.revoked_at is not None:
        return TokenCheck(row.source, status=401, problem="token revoked")
    if row.expires_at is not None and row.expires_at <= dt.datetime.now(dt.UTC):
        return TokenCheck(row.source, status=401, problem="token expired")
    if kind not in row.kinds:
        return TokenCheck(row.source, tuple(row.kinds), 403, f"this token may not send {kind}")
    return TokenCheck(row.source, tuple(row.kinds))
