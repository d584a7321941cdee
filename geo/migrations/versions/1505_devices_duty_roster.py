"""device registry (vendor device id → chief / vehicle over time) and the per-officer duty roster

Revision ID: 1505
Revises: 1504
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1505"
down_revision = "1504"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("subject_kind IN ('patrol', 'sanitation')", name=op.f("ck_devices_subject_kind")),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_devices_valid_span")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["etl_runs.id"], name=op.f("fk_devices_run_id_etl_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    op.create_index("uq_devices_device_from", "devices", [sa.text("lower(device_id)"), "valid_from"], unique=True)
    op.create_index(
        "uq_devices_device_open",
        "devices",
        [sa.text("lower(device_id)")],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_table(
        "duty_roster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chief_code", sa.String(length=40), nullable=False),
        sa.Column("duty_date", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("squad_code", sa.String(length=20), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_duty_roster_span")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["etl_runs.id"], name=op.f("fk_duty_roster_run_id_etl_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_roster")),
        sa.UniqueConstraint(
            "chief_code", "duty_date", "starts_at", name=op.f("uq_duty_roster_chief_code_duty_date_starts_at")
        ),
    )


def downgrade() -> None:
    op.drop_table("duty_roster")
    op.drop_index("uq_devices_device_open", table_name="devices")
    op.drop_index("uq_devices_device_from", table_name="devices")
    op.drop_table("devices")
