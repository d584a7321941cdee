"""Database access: the connection URL, engines, and the transaction helper.

Who owns a transaction (library code never opens ORM sessions of its own):

- Library code that takes a ``Connection`` (a job's body, a layer's query, ``recompute_due_times``)
  works inside the caller's transaction and neither commits nor rolls back.
- Entry points own theirs, with SQLAlchemy's own idiom: ``with engine.begin()`` to write,
  ``with engine.connect()`` to read (command-line commands, the ETL run bookkeeping whose
  rows must commit on their own, the dashboard's data access and account store).
- A function that accepts either (``Bind``) writes inside :func:`transaction`: given an Engine it
  opens a transaction, given a Connection it joins the caller's by a savepoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, Connection, make_url

from geo.errors import ConfigError
from geo.settings import get_settings

Bind = Engine | Connection


def normalize_url(url: str | URL) -> URL:
    """Parse a PostgreSQL URL and make it use the psycopg 3 driver."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception as exc:
        raise ConfigError(
            f"DATABASE_URL is not a valid URL ({exc}); expected postgresql://user:password@host:5432/dbname"
        ) from exc
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        raise ConfigError(f"DATABASE_URL must point to PostgreSQL with PostGIS, not {parsed.get_backend_name()!r}")
    if not parsed.database:
        raise ConfigError("DATABASE_URL names no database; add /dbname at the end")
    return parsed.set(drivername="postgresql+psycopg")


def database_url() -> URL:
    """The URL of the configured database: ``DATABASE_URL``, or the embedded cluster's."""
    settings = get_settings()
    if settings.database_url:
        return normalize_url(settings.database_url)
    from geo.db.cluster import Cluster

    return Cluster.from_settings().url(settings.db_name)


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def get_engine(url: str | URL | None = None) -> Engine:
    """A pooled engine for ``url`` (default: :func:`database_url`), shared within the process."""
    target = normalize_url(url) if url is not None else database_url()
    return _engine_for(target.render_as_string(hide_password=False))


def reader_engine() -> Engine:
    """Engine of the dashboard: the configured database as the read-only role.

    Every statement on it is cancelled after ``EGIS_READER_TIMEOUT_S`` seconds (``statement_timeout``
    set per connection: a setting on the role would not apply, as the role is taken by ``SET ROLE``),
    so no request can hold a database backend for long.
    """
    from geo.db.roles import READER, with_option, with_role

    url = with_role(database_url(), READER)
    timeout_ms = round(get_settings().reader_timeout_s * 1000)
    return get_engine(with_option(url, "statement_timeout", str(max(timeout_ms, 0))))


# SQLSTATE of a statement cancelled by statement_timeout (or a cancel request).
QUERY_CANCELED = "57014"


def statement_cancelled(exc: BaseException) -> bool:
    """True when ``exc`` (a SQLAlchemy or driver error) says the statement was cancelled, e.g. by the timeout."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) == QUERY_CANCELED


def writer_engine() -> Engine:
    """Engine of the ETL: the configured database as the writer role (no DDL)."""
    from geo.db.roles import WRITER, with_role

    return get_engine(with_role(database_url(), WRITER))


@contextmanager
def transaction(bind: Bind) -> Iterator[Connection]:
    """Yield a connection inside a transaction that commits on success and rolls back on error.

    Given an Engine, opens a connection and a transaction. Given a Connection that is already
    in a transaction (e.g. a test's rolled-back connection), uses a savepoint, so the caller's
    outer transaction decides what is finally kept.
    """
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            yield conn
    elif bind.in_transaction():
        with bind.begin_nested():
            yield bind
    else:
        with bind.begin():
            yield bind
