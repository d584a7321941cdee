"""Shared fixtures: a separate test database on the real PostGIS, and isolation per test.

At session start the tests point ``DATABASE_URL`` at ``<name>_test`` (in the embedded cluster,
or on the external server when ``DATABASE_URL`` was set), so nothing a test does touches the
demo data, and command-line programs started by tests use the test database too.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, Connection

from geo.db import get_engine, normalize_url
from geo.db.cluster import Cluster
from geo.db.migrate import upgrade
from geo.db.roles import ensure_roles
from geo.db.setup import ensure_database_at, prepare_database
from geo.region import Region, get_region
from geo.settings import get_settings


def _test_database_url() -> URL:
    settings = get_settings()
    if settings.embedded:
        cluster = Cluster.from_settings()
        cluster.start()
        name = f"{settings.db_name}_test"
        cluster.ensure_database(name)
        url = cluster.url(name)
        prepare_database(url)
        return url
    url = normalize_url(settings.database_url)
    return ensure_database_at(url.set(database=f"{url.database}_test"))


@pytest.fixture(scope="session")
def test_url() -> Iterator[URL]:
    """URL of the migrated test database; also exported as DATABASE_URL for the session."""
    url = _test_database_url()
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
    get_settings.cache_clear()
    yield url
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def engine(test_url: URL) -> Engine:
    """Engine on the test database."""
    return get_engine(test_url)


@pytest.fixture
def db(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def schema_url(test_url: URL) -> Iterator[URL]:
    """A fresh, migrated schema of its own (for tests that commit, or run command-line programs).

    The URL sets ``search_path`` to the schema, so everything using it — including subprocesses
    given it as DATABASE_URL — sees only this schema's tables. Dropped after the test.
    """
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = get_engine(test_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = test_url.update_query_dict({"options": f"-csearch_path={schema},public"})
    try:
        upgrade(get_engine(url))
        ensure_roles(get_engine(url))
        yield url
    finally:
        get_engine(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def schema_engine(schema_url: URL) -> Engine:
    """Engine on a fresh schema of its own."""
    return get_engine(schema_url)


@pytest.fixture(scope="session")
def region() -> Region:
    """The configured region (Wuyi)."""
    return get_region()
