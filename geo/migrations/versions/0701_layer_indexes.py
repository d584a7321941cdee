"""indexes for the layers: visits by kind and time, cases by due time

Revision ID: 0701
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0701"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_segment_visits_kind_entered", "segment_visits", ["subject_kind", "entered_at"])
    op.create_index("ix_cases_due_at", "cases", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_due_at", table_name="cases")
    op.drop_index("ix_segment_visits_kind_entered", table_name="segment_visits")
