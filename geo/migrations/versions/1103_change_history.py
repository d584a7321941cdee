"""change history of merged records; case numbers normalised (NFKC, trimmed, upper case)

Revision ID: 1103
Revises: 1102
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "1103"
down_revision = "1102"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_history",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=63), nullable=False),
        sa.Column("old_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["etl_runs.id"], name=op.f("fk_change_history_run_id_etl_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_history")),
    )
    op.create_index("ix_change_history_record", "change_history", ["table_name", "record_key"], unique=False)
    op.create_index("ix_change_history_run_id", "change_history", ["run_id"], unique=False)
    # Case numbers as geo.case_number.normalize_case_number writes them (where that creates no duplicate).
    op.execute(
        """
        UPDATE cases c SET case_number = upper(btrim(normalize(c.case_number, NFKC)))
        WHERE c.case_number IS DISTINCT FROM upper(btrim(normalize(c.case_number, NFKC)))
          AND NOT EXISTS (
              SELECT 1 FROM cases d
              WHERE d.id <> c.id AND upper(btrim(normalize(d.case_number, NFKC))) = upper(btrim(normalize(c.case_number, NFKC)))
          )
        """
    )


def downgrade() -> None:
    op.drop_index("ix_change_history_run_id", table_name="change_history")
    op.drop_index("ix_change_history_record", table_name="change_history")
    op.drop_table("change_history")
