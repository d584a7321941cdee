"""case search trigram indexes (pg_trgm GIN on case number, address, description, category)

Revision ID: 1102
Revises: 1101
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "1102"
down_revision = "1101"
branch_labels = None
depends_on = None

COLUMNS = ("case_number", "address", "description", "category")


def upgrade() -> None:
    # pg_trgm ships with the server (postgresql-contrib) and is a trusted extension: a user with
    # CREATE on the database may enable it. In public, like PostGIS, so that every schema sees it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    for column in COLUMNS:
        op.create_index(
            f"ix_cases_{column}_trgm",
            "cases",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    # The extension stays: it is shared by every schema of the database.
    for column in reversed(COLUMNS):
        op.drop_index(f"ix_cases_{column}_trgm", table_name="cases")
