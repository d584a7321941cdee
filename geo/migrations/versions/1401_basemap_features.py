"""basemap_features: extra reference layers of the basemap (water, buildings, green space …)

Revision ID: 1401
Revises: 1303
Create Date: 2026-11-30
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "1401"
down_revision = "1303"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "basemap_features",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feature_key", sa.Text(), nullable=False),
        sa.Column("layer", sa.String(length=20), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("source_crs", sa.String(length=40), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["etl_runs.id"], name=op.f("fk_basemap_features_run_id_etl_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_basemap_features")),
        sa.UniqueConstraint("feature_key", name=op.f("uq_basemap_features_feature_key")),
    )
    op.create_index("ix_basemap_features_geom_gist", "basemap_features", ["geom"], postgresql_using="gist")
    op.create_index("ix_basemap_features_layer", "basemap_features", ["layer"])


def downgrade() -> None:
    op.drop_index("ix_basemap_features_layer", table_name="basemap_features")
    op.drop_index("ix_basemap_features_geom_gist", table_name="basemap_features", postgresql_using="gist")
    op.drop_table("basemap_features")
