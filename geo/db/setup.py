"""Bring a database to a usable state: server up (embedded) or reachable (external), PostGIS, migrations."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError, ProgrammingError

from geo.db import database_url, get_engine, normalize_url
from geo.db.cluster import EXTENSIONS, Cluster, create_extension_statements
from geo.db.migrate import upgrade
from geo.errors import DatabaseError
from geo.settings import get_settings


@dataclass(frozen=True)
class StartResult:
    """What ``start`` did."""

    url: URL
    embedded: bool
    started: bool  # False when an embedded server was already running, or for an external server


def check_connection(url: URL) -> None:
    """Connect once and raise a DatabaseError that says what to do when it fails."""
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot connect to {url.render_as_string(hide_password=True)}: {reason}. Check DATABASE_URL "
            "(host, port, user, password, database) or unset it to use the embedded PostGIS."
        ) from exc


def enable_postgis(url: URL) -> None:
    """``CREATE EXTENSION IF NOT EXISTS`` PostGIS, pgRouting, pg_partman; a clear error when that is not allowed."""
    engine = get_engine(url)
    for extension in EXTENSIONS:
        with engine.begin() as conn:
            present = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = :e"), {"e": extension}).first()
            if present:
                continue
        try:
            with engine.begin() as conn:
                for statement in create_extension_statements(extension):
                    conn.execute(text(statement))
        except (ProgrammingError, OperationalError) as exc:
            raise DatabaseError(
                f"{extension} is not enabled in {url.database} and this user may not enable it ({exc.orig}); "
                f"ask the database administrator to run CREATE EXTENSION {extension} there"
            ) from exc


def prepare_database(url: URL) -> None:
    """PostGIS enabled and migrations at head on the database at ``url``."""
    from geo.db.roles import ensure_roles

    check_connection(url)
    enable_postgis(url)
    upgrade(get_engine(url))
    ensure_roles(get_engine(url))


def start(database: str | None = None) -> StartResult:
    """Start (or reuse) the embedded cluster, or check the external one; then migrate.

    Parameters
    ----------
    database
        Database name in the embedded cluster; default the ``EGIS_DB_NAME`` setting. Ignored
        with ``DATABASE_URL`` set.
    """
    settings = get_settings()
    if not settings.embedded:
        url = database_url()
        prepare_database(url)
        return StartResult(url, embedded=False, started=False)
    cluster = Cluster.from_settings()
    started = cluster.start()
    name = database or settings.db_name
    cluster.ensure_database(name)
    url = cluster.url(name)
    prepare_database(url)
    return StartResult(url, embedded=True, started=started)


def sibling_database(name: str) -> URL:
    """A database called ``name`` beside the configured one, created, PostGIS-enabled and migrated.

    On the embedded cluster (started if needed), or on the ``DATABASE_URL`` server (needs CREATEDB).
    Used for the test database and the benchmark databases.
    """
    if get_settings().embedded:
        return start(name).url
    return ensure_database_at(normalize_url(get_settings().database_url).set(database=name))


def ensure_database_at(url: URL | str) -> URL:
    """Create the database named in ``url`` on its server if missing (needs CREATEDB), then prepare it."""
    url = normalize_url(url)
    admin = url.set(database="postgres", drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
                conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(url.database)))
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot create database {url.database!r}: {exc}") from exc
    prepare_database(url)
    return url
