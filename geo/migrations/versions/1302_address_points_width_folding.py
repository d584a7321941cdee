"""address points placed by a person (learnt by the geocoder); case text stored width-folded

Revision ID: 1302
Revises: 1601
Create Date: 2026-11-30
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "1302"
down_revision = "1601"
branch_labels = None
depends_on = None

# Full-width digits and Latin letters → ASCII, as geo.geocode.normalize.fold_width folds them
# (frozen here: a migration does not follow later code). Chinese punctuation is left as written.
_ALNUM = ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B))
_FULL = "".join(chr(c) for a, b in _ALNUM for c in range(a, b))
_HALF = "".join(chr(c - 0xFEE0) for a, b in _ALNUM for c in range(a, b))
_FOLDED = ("address", "description", "category")


def upgrade() -> None:
    op.create_table(
        "address_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_key", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_address_points_case_id_cases"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_points")),
        sa.UniqueConstraint("point_key", name=op.f("uq_address_points_point_key")),
    )
    op.create_index("ix_address_points_geom_gist", "address_points", ["geom"], postgresql_using="gist")
    for column in _FOLDED:
        op.execute(
            sa.text(f"UPDATE cases SET {column} = translate({column}, :full, :half) WHERE {column} ~ :any").bindparams(
                full=_FULL, half=_HALF, any=f"[{_FULL}]"
            )
        )


def downgrade() -> None:
    # The folded text stays folded: the full-width spelling is not kept anywhere to restore it.
    op.drop_index("ix_address_points_geom_gist", table_name="address_points", postgresql_using="gist")
    op.drop_table("address_points")
