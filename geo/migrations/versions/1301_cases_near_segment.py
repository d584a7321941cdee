"""Cases: the street segment each located case counts on (nearest within the region's limit) and its distance

The values are computed by the ETL (geo/case_segments.py): the case job for the cases it loads,
the streets job for every case when the network changes. A database migrated here has them empty
until ``python -m etl case-segments`` runs (the demo load runs it after its jobs).

Revision ID: 1301
Revises: 1502
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1301"
down_revision = "1502"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("near_segment_id", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("near_segment_m", sa.Float(), nullable=True))
    op.create_foreign_key(
        op.f("fk_cases_near_segment_id_street_segments"),
        "cases",
        "street_segments",
        ["near_segment_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("ix_cases_near_segment_id_received_at", "cases", ["near_segment_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_near_segment_id_received_at", table_name="cases")
    op.drop_constraint(op.f("fk_cases_near_segment_id_street_segments"), "cases", type_="foreignkey")
    op.drop_column("cases", "near_segment_m")
    op.drop_column("cases", "near_segment_id")
