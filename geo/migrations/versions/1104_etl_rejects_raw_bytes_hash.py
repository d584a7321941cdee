"""etl_rejects: length, SHA-256 and a truncated flag for the raw row (stored cut to a bound)

Revision ID: 1104
Revises: 1103
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1104"
down_revision = "1103"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("etl_rejects", sa.Column("raw_bytes", sa.BigInteger(), nullable=True))
    op.add_column("etl_rejects", sa.Column("raw_sha256", sa.String(length=64), nullable=True))
    op.add_column("etl_rejects", sa.Column("raw_truncated", sa.Boolean(), server_default="false", nullable=False))


def downgrade() -> None:
    op.drop_column("etl_rejects", "raw_truncated")
    op.drop_column("etl_rejects", "raw_sha256")
    op.drop_column("etl_rejects", "raw_bytes")
