"""Automatic warnings (预警): one row per raised warning, at most one open per rule and subject

Revision ID: 1502
Revises: 1401
Create Date: 2026-12-03
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "1502"
down_revision = "1401"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("squad_code", sa.String(length=20), nullable=True),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),  # fmt: skip
        sa.Column("raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('new', 'acknowledged', 'resolved')", name=op.f("ck_warnings_status")),
        sa.CheckConstraint("severity IN ('info', 'warning', 'critical')", name=op.f("ck_warnings_severity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
    )
    op.create_index(
        "uq_warnings_open_rule_subject",
        "warnings",
        ["rule", "subject_kind", "subject_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_index("ix_warnings_squad_code_raised_at", "warnings", ["squad_code", "raised_at"])
    op.create_index("ix_warnings_open", "warnings", ["raised_at"], postgresql_where=sa.text("status <> 'resolved'"))
    op.create_index("ix_warnings_geom_gist", "warnings", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("warnings")
