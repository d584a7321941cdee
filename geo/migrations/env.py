"""Alembic environment: runs migrations on the connection handed over by geo.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

from geo.models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    # PostGIS's own tables (spatial_ref_sys, topology …) are not ours.
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    # Pin the version table to the current schema: with search_path "x, public" a version table
    # in public would otherwise be found and taken for this schema's.
    schema = connection.execute(text("SELECT current_schema()")).scalar()
    context.configure(
        connection=connection,
        version_table_schema=schema,
        target_metadata=target_metadata,
        include_object=_include_object,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
