"""users: usernames are case-insensitive (a unique index on lower(username))

Existing usernames are kept as stored (audit entries name them); the login looks them up by their
lower-cased form. The upgrade stops with a clear message, changing nothing, when two existing
users differ only in case.

Revision ID: 1303
Revises: 1302
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1303"
down_revision = "1302"
branch_labels = None
depends_on = None

INDEX = "uq_users_username_lower"


def upgrade() -> None:
    clashes = (
        op.get_bind()
        .execute(
            sa.text(
                """SELECT lower(username) AS name, string_agg(username, ', ' ORDER BY username) AS spellings
                   FROM users GROUP BY lower(username) HAVING count(*) > 1 ORDER BY 1"""
            )
        )
        .all()
    )
    if clashes:
        listed = "; ".join(f"{row.spellings}" for row in clashes)
        raise RuntimeError(
            "usernames are case-insensitive from revision 1303, but these users differ only in case: "
            f"{listed}. Rename all but one of each (UPDATE users SET username = …), then migrate again."
        )
    op.create_index(INDEX, "users", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="users")
