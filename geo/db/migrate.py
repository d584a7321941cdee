"""Apply and revert the Alembic migrations of ``geo/migrations`` on a database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from geo.db import Bind, transaction

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    """An Alembic config pointing at the project's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _with_connection(bind: Bind, action) -> None:
    config = alembic_config()
    with transaction(bind) as conn:
        config.attributes["connection"] = conn
        action(config)


def upgrade(bind: Bind, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` in one transaction."""
    _with_connection(bind, lambda config: command.upgrade(config, revision))


def downgrade(bind: Bind, revision: str) -> None:
    """Downgrade the database to ``revision`` in one transaction."""
    _with_connection(bind, lambda config: command.downgrade(config, revision))


def current_revision(bind: Bind) -> str | None:
    """The revision the database is at (None when never migrated)."""
    conn = bind.connect() if isinstance(bind, Engine) else bind
    try:
        return MigrationContext.configure(conn).get_current_revision()
    finally:
        if isinstance(bind, Engine):
            conn.close()


def head_revision() -> str:
    """The newest revision in the migrations folder."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
