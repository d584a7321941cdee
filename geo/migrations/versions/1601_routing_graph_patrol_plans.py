"""Routing graph (nodes, edges, builds), one-way streets, patrol plans with versions, routes and stops

Revision ID: 1601
Revises: 1104
Create Date: 2026-12-02
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "1601"
down_revision = "1104"
branch_labels = None
depends_on = None


def _geometry(kind: str, nullable: bool) -> geoalchemy2.types.Geometry:
    return geoalchemy2.types.Geometry(
        geometry_type=kind, srid=4326, dimension=2, spatial_index=False, from_text="ST_GeomFromEWKT",
        name="geometry", nullable=nullable,
    )  # fmt: skip


def upgrade() -> None:
    op.add_column("street_segments", sa.Column("oneway", sa.String(length=2), nullable=True))
    op.create_table(
        "route_graph_builds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.Column("edges", sa.Integer(), nullable=False),
        sa.Column("components", sa.Integer(), nullable=False),
        sa.Column("stats", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route_graph_builds")),
    )
    op.create_table(
        "route_graph_nodes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("component", sa.Integer(), nullable=False),
        sa.Column("geom", _geometry("POINT", False), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route_graph_nodes")),
    )
    op.create_index("ix_route_graph_nodes_geom_gist", "route_graph_nodes", ["geom"], postgresql_using="gist")
    op.create_table(
        "route_graph_edges",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("source", sa.BigInteger(), nullable=False),
        sa.Column("target", sa.BigInteger(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("reverse_cost", sa.Float(), nullable=False),
        sa.Column("geom", _geometry("LINESTRING", False), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["street_segments.id"], name=op.f("fk_route_graph_edges_segment_id_street_segments"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route_graph_edges")),
    )
    op.create_index("ix_route_graph_edges_segment_id", "route_graph_edges", ["segment_id"])
    op.create_index("ix_route_graph_edges_geom_gist", "route_graph_edges", ["geom"], postgresql_using="gist")
    op.create_table(
        "patrol_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("squad_code", sa.String(length=20), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="draft", nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'approved')", name=op.f("ck_patrol_plans_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plans")),
    )
    op.create_index("ix_patrol_plans_squad_date", "patrol_plans", ["squad_code", "plan_date"])
    op.create_table(
        "patrol_plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["patrol_plans.id"], name=op.f("fk_patrol_plan_versions_plan_id_patrol_plans"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plan_versions")),
        sa.UniqueConstraint("plan_id", "version", name=op.f("uq_patrol_plan_versions_plan_id_version")),
    )
    op.create_table(
        "patrol_plan_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("chief_code", sa.String(length=40), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", _geometry("MULTILINESTRING", True), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"], ["patrol_plan_versions.id"],
            name=op.f("fk_patrol_plan_routes_version_id_patrol_plan_versions"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plan_routes")),
        sa.UniqueConstraint("version_id", "chief_code", name=op.f("uq_patrol_plan_routes_version_id_chief_code")),
    )
    op.create_index("ix_patrol_plan_routes_geom_gist", "patrol_plan_routes", ["geom"], postgresql_using="gist")
    op.create_table(
        "patrol_plan_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("chief_code", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("segment_key", sa.Text(), nullable=False),
        sa.Column("segment_name", sa.Text(), nullable=True),
        sa.Column("reversed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("arrive_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leave_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prize", sa.Float(), nullable=False),
        sa.Column("reasons", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["patrol_plan_versions.id"],
            name=op.f("fk_patrol_plan_stops_version_id_patrol_plan_versions"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["segment_id"], ["street_segments.id"], name=op.f("fk_patrol_plan_stops_segment_id_street_segments"),
            ondelete="SET NULL",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plan_stops")),
        sa.UniqueConstraint(
            "version_id", "chief_code", "seq", name=op.f("uq_patrol_plan_stops_version_id_chief_code_seq")
        ),
    )
    op.create_index("ix_patrol_plan_stops_segment_id", "patrol_plan_stops", ["segment_id"])


def downgrade() -> None:
    for table in (
        "patrol_plan_stops",
        "patrol_plan_routes",
        "patrol_plan_versions",
        "patrol_plans",
        "route_graph_edges",
        "route_graph_nodes",
        "route_graph_builds",
    ):
        op.drop_table(table)
    op.drop_column("street_segments", "oneway")
