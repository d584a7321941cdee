"""gps_fixes partitioned by day on ts, managed by pg_partman (schema partman); the primary key becomes (id, ts)

Revision ID: 1504
Revises: 1503
Create Date: 2026-11-30

Every row is kept (ids, the id sequence, constraints and indexes under their old names). Partitions
start at the day of the oldest fix, or yesterday (at most ``MAX_BACKFILL_DAYS`` back; older rows land in the
default partition, where ``python -m etl maintenance`` reports and expires them) and run
``geo.partitions.PREMAKE_DAYS`` days ahead. The downgrade folds the partitions back into one table.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from geo.partitions import (
    GPS_INTERVAL,
    MAX_BACKFILL_DAYS,
    PARTMAN_SCHEMA,
    PREMAKE_DAYS,
    RETENTION_DAYS_DEFAULT,
    ensure_partman,
    gps_parent,
)

revision = "1504"
down_revision = "1503"
branch_labels = None
depends_on = None

COLUMNS = """
    id bigint NOT NULL DEFAULT nextval('gps_fixes_id_seq'::regclass),
    subject_kind varchar(12) NOT NULL,
    subject_id varchar(64) NOT NULL,
    ts timestamptz NOT NULL,
    geom geometry(POINT, 4326) NOT NULL,
    speed_mps double precision,
    heading double precision,
    trip_id integer,
    segment_id integer,
    match_distance_m double precision,
    source_crs varchar(40),
    run_id integer,
    CONSTRAINT ck_gps_fixes_subject_kind CHECK (subject_kind IN ('patrol', 'sanitation'))
"""


def _constraints_and_indexes(primary_key: str) -> list[str]:
    return [
        f"ALTER TABLE gps_fixes ADD CONSTRAINT pk_gps_fixes PRIMARY KEY ({primary_key})",
        "ALTER TABLE gps_fixes ADD CONSTRAINT uq_gps_fixes_subject_kind_subject_id_ts "
        "UNIQUE (subject_kind, subject_id, ts)",
        "ALTER TABLE gps_fixes ADD CONSTRAINT fk_gps_fixes_run_id_etl_runs FOREIGN KEY (run_id) "
        "REFERENCES etl_runs (id) ON DELETE SET NULL",
        "ALTER TABLE gps_fixes ADD CONSTRAINT fk_gps_fixes_segment_id_street_segments FOREIGN KEY (segment_id) "
        "REFERENCES street_segments (id) ON DELETE SET NULL",
        "CREATE INDEX ix_gps_fixes_geom_gist ON gps_fixes USING gist (geom)",
        "CREATE INDEX ix_gps_fixes_segment_id ON gps_fixes (segment_id)",
        "CREATE INDEX ix_gps_fixes_ts ON gps_fixes (ts)",
    ]


def _swap(partitioned: bool) -> None:
    """Move the rows of gps_fixes into a new table (partitioned or not) of the same name."""
    conn = op.get_bind()
    conn.execute(text("ALTER SEQUENCE gps_fixes_id_seq OWNED BY NONE"))
    conn.execute(text("ALTER TABLE gps_fixes RENAME TO gps_fixes_old"))
    if partitioned:
        conn.execute(text(f"CREATE TABLE gps_fixes ({COLUMNS}) PARTITION BY RANGE (ts)"))
        oldest = conn.execute(text("SELECT min(ts) FROM gps_fixes_old")).scalar()
        start = conn.execute(
            text(
                "SELECT to_char(greatest(least(date_trunc('day', CAST(:oldest AS timestamptz)), "
                "date_trunc('day', now()) - interval '1 day'), date_trunc('day', now()) - make_interval(days => :backfill)), "
                "'YYYY-MM-DD')"
            ),
            {"oldest": oldest, "backfill": MAX_BACKFILL_DAYS},
        ).scalar()
        conn.execute(
            text(
                f"SELECT {PARTMAN_SCHEMA}.create_parent(p_parent_table => :parent, p_control => 'ts', "
                "p_type => 'native', p_interval => :interval, p_premake => :premake, p_start_partition => :start)"
            ),
            {"parent": gps_parent(conn), "interval": GPS_INTERVAL, "premake": PREMAKE_DAYS, "start": start},
        )
        conn.execute(
            text(
                f"UPDATE {PARTMAN_SCHEMA}.part_config SET infinite_time_partitions = true, "
                "retention = :retention, retention_keep_table = false, retention_keep_index = false "
                "WHERE parent_table = :parent"
            ),
            {"parent": gps_parent(conn), "retention": f"{RETENTION_DAYS_DEFAULT} days"},
        )
    else:
        conn.execute(text(f"CREATE TABLE gps_fixes ({COLUMNS})"))
    conn.execute(text("INSERT INTO gps_fixes SELECT * FROM gps_fixes_old"))
    conn.execute(text("DROP TABLE gps_fixes_old"))
    conn.execute(text("ALTER SEQUENCE gps_fixes_id_seq OWNED BY gps_fixes.id"))
    for statement in _constraints_and_indexes("id, ts" if partitioned else "id"):
        conn.execute(text(statement))


def upgrade() -> None:
    ensure_partman(op.get_bind())
    _swap(partitioned=True)


def downgrade() -> None:
    conn = op.get_bind()
    parent = gps_parent(conn)
    template = conn.execute(
        text(f"SELECT template_table FROM {PARTMAN_SCHEMA}.part_config WHERE parent_table = :p"), {"p": parent}
    ).scalar()
    conn.execute(text(f"DELETE FROM {PARTMAN_SCHEMA}.part_config WHERE parent_table = :p"), {"p": parent})
    if template:
        conn.execute(text(f"DROP TABLE IF EXISTS {template}"))
    _swap(partitioned=False)
