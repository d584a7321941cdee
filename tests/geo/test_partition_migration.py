"""Migration 1504 turns a gps_fixes with rows into the partitioned table and back, keeping every row;
the maintenance drops partitions past the retention while the segment visits stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, text

from geo.db.migrate import downgrade, upgrade
from geo.partitions import gps_partitions, make_gps_partitions, run_gps_maintenance

ROWS = "SELECT id, subject_kind, subject_id, ts, ST_AsText(geom) FROM gps_fixes ORDER BY id"


def _kind(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT relkind FROM pg_class WHERE oid = CAST('gps_fixes' AS regclass)")).scalar()


def _pk(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT a.attname FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid "
                    "AND a.attnum = ANY(x.indkey) WHERE x.indrelid = CAST('gps_fixes' AS regclass) "
                    "AND x.indisprimary ORDER BY a.attnum"
                )
            ).scalars()
        )


def test_upgrade_and_downgrade_keep_the_fixes(schema_engine: Engine) -> None:
    downgrade(schema_engine, "1503")
    assert _kind(schema_engine) == "r"
    now = dt.datetime.now(dt.UTC)
    with schema_engine.begin() as conn:
        for i, days in enumerate((0, 3, 40, 500)):
            conn.execute(
                text(
                    "INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom) "
                    "VALUES ('patrol', :s, :ts, ST_SetSRID(ST_MakePoint(119.8, 28.9), 4326))"
                ),
                {"s": f"JL{i}", "ts": now - dt.timedelta(days=days)},
            )
        before = conn.execute(text(ROWS)).all()
    upgrade(schema_engine)
    assert _kind(schema_engine) == "p" and _pk(schema_engine) == ["id", "ts"]
    with schema_engine.begin() as conn:
        assert conn.execute(text(ROWS)).all() == before
        assert conn.execute(text("SELECT count(*) FROM gps_fixes_default")).scalar() == 1  # 500 days: default
        assert len(gps_partitions(conn)) >= 41 + 14
        constraints = set(
            conn.execute(
                text("SELECT conname FROM pg_constraint WHERE conrelid = CAST('gps_fixes' AS regclass)")
            ).scalars()
        )
        assert {
            "pk_gps_fixes",
            "uq_gps_fixes_subject_kind_subject_id_ts",
            "fk_gps_fixes_run_id_etl_runs",
            "fk_gps_fixes_segment_id_street_segments",
        } <= constraints
        new_id = conn.execute(
            text(
                "INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom) VALUES ('patrol', 'JLX', now(), "
                "ST_SetSRID(ST_MakePoint(119.8, 28.9), 4326)) RETURNING id"
            )
        ).scalar()
        assert new_id > max(r[0] for r in before)
        conn.execute(text("DELETE FROM gps_fixes WHERE id = :i"), {"i": new_id})
    downgrade(schema_engine, "1503")
    assert _kind(schema_engine) == "r" and _pk(schema_engine) == ["id"]
    with schema_engine.begin() as conn:
        assert conn.execute(text(ROWS)).all() == before
    upgrade(schema_engine)


def test_maintenance_moves_expires_and_drops_by_retention(schema_engine: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    with schema_engine.begin() as conn:
        for i, days in enumerate((1, 100, 200)):
            conn.execute(
                text(
                    "INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom) "
                    "VALUES ('patrol', :s, :ts, ST_SetSRID(ST_MakePoint(119.8, 28.9), 4326))"
                ),
                {"s": f"JL{i}", "ts": now - dt.timedelta(days=days)},
            )
        report = run_gps_maintenance(conn, retention_days=180)
        assert (report.moved_from_default, report.expired_from_default, report.default_rows) == (1, 1, 0)
        assert conn.execute(text("SELECT count(*) FROM gps_fixes")).scalar() == 2
        old = (now - dt.timedelta(days=100)).strftime("gps_fixes_p%Y_%m_%d")
        assert old in report.created
        report = run_gps_maintenance(conn, retention_days=90)
        assert old in report.dropped and old not in gps_partitions(conn)
        assert conn.execute(text("SELECT count(*) FROM gps_fixes")).scalar() == 1


def test_make_gps_partitions_backfills_the_days_of_a_past_period(schema_engine: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(days=40), now - dt.timedelta(days=38)
    names = [(start + dt.timedelta(days=d)).strftime("gps_fixes_p%Y_%m_%d") for d in range(3)]
    with schema_engine.begin() as conn:
        assert not set(names) & set(gps_partitions(conn))
        assert make_gps_partitions(conn, start, end) == names
        assert make_gps_partitions(conn, start, end) == []  # made once
        conn.execute(
            text(
                "INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom) "
                "VALUES ('patrol', 'JL1', :ts, ST_SetSRID(ST_MakePoint(119.8, 28.9), 4326))"
            ),
            {"ts": start + dt.timedelta(days=1)},
        )
        assert conn.execute(text(f"SELECT count(*) FROM {names[1]}")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM gps_fixes_default")).scalar_one() == 0
