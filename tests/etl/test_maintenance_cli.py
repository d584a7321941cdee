"""``python -m etl maintenance``: the gps_fixes partitions follow ``[gps] retention_days`` of the region config."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from geo.partitions import gps_partitions
from geo.region import get_region


def _region_keeping(folder: Path, days: int) -> Path:
    """A copy of the configured region whose ``[gps] retention_days`` is ``days``; its config path."""
    if not folder.exists():
        shutil.copytree(get_region().path.parent, folder)
    config = folder / "region.toml"
    body = config.read_text(encoding="utf-8")
    start = body.index("[gps]\nretention_days = ")
    end = body.index("\n", start + len("[gps]\n"))
    config.write_text(body[:start] + f"[gps]\nretention_days = {days}" + body[end:], encoding="utf-8")
    return config


def _maintenance(url: URL, region: Path) -> str:
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False), "EGIS_REGION": str(region)}
    done = subprocess.run(
        [sys.executable, "-m", "etl", "maintenance"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


def test_maintenance_command_moves_expires_and_drops_by_the_configured_retention(
    schema_engine: Engine, schema_url: URL, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    with schema_engine.begin() as conn:
        for i, days in enumerate((0, 60, 200)):  # today's partition; the default partition twice
            conn.execute(
                text(
                    "INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom) "
                    "VALUES ('patrol', :s, :ts, ST_SetSRID(ST_MakePoint(119.8, 28.9), 4326))"
                ),
                {"s": f"JL{i}", "ts": now - dt.timedelta(days=days)},
            )
        premade = gps_partitions(conn)
    old = (now - dt.timedelta(days=60)).strftime("gps_fixes_p%Y_%m_%d")
    assert old not in premade

    out = _maintenance(schema_url, _region_keeping(tmp_path / "region", 90))
    assert "0 dropped (retention 90 days), 1 rows moved and 1 expired from the default partition, 0 left there" in out
    assert f"+ {old}" in out
    with schema_engine.connect() as conn:
        assert old in gps_partitions(conn)
        assert sorted(conn.execute(text("SELECT subject_id FROM gps_fixes")).scalars()) == ["JL0", "JL1"]
        assert conn.execute(text("SELECT count(*) FROM gps_fixes_default")).scalar_one() == 0

    out = _maintenance(schema_url, _region_keeping(tmp_path / "region", 30))
    assert "(retention 30 days), 0 rows moved and 0 expired" in out
    assert f"- {old}" in out
    with schema_engine.connect() as conn:
        left = gps_partitions(conn)
        assert old not in left
        assert set(premade) <= set(left)  # nothing within the retention is dropped
        # pg_partman counts the days premade from the current time, not from midnight: after noon UTC
        # the run adds the next day ahead, never a day before the premade ones
        assert all(name > premade[-1] for name in set(left) - set(premade))
        assert list(conn.execute(text("SELECT subject_id FROM gps_fixes")).scalars()) == ["JL0"]
