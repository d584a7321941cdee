"""index on cases.updated_at (the live maps' and the warning evaluator's change token)

Revision ID: 1503
Revises: 1501
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "1503"
down_revision = "1501"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_updated_at", "cases", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_updated_at", table_name="cases")
