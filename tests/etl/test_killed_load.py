"""Fault injection: a real `python -m etl load` killed in the middle leaves the database as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from etl.demo import load_demo
from etl.jobs.registry import requirements
from etl.runs import mark_interrupted_runs
from geo.settings import PROJECT_ROOT


def _load(url: URL, kind: str, path: Path) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False))
    return subprocess.Popen(
        [sys.executable, "-m", "etl", "load", kind, str(path)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_gps_load_rolls_back_is_marked_failed_and_completes_on_rerun(
    schema_url: URL, schema_engine: Engine, demo_dir: Path
) -> None:
    raw = demo_dir / "raw"
    load_demo(schema_engine, demo_dir, jobs=tuple(requirements("gps")))  # the region and what GPS matching needs

    process = _load(schema_url, "gps", raw / "gps")
    deadline = time.monotonic() + 60
    with schema_engine.connect() as conn:
        while time.monotonic() < deadline:  # the moment the loading transaction has started
            pid = conn.execute(
                text("SELECT backend_pid FROM etl_runs WHERE job = 'gps' AND status = 'running'")
            ).scalar()
            conn.rollback()
            if pid:
                break
            time.sleep(0.02)
    assert pid, "the gps load never started"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(2.5)  # the server sees the dead client and rolls its transaction back

    assert mark_interrupted_runs(schema_engine) == 1
    with schema_engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM etl_runs WHERE job = 'gps'")).scalar()
        fixes = conn.execute(text("SELECT count(*) FROM gps_fixes")).scalar()
        visits = conn.execute(text("SELECT count(*) FROM segment_visits")).scalar()
    assert (status, fixes, visits) == ("failed", 0, 0)

    rerun = _load(schema_url, "gps", raw / "gps")
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
    with schema_engine.connect() as conn:
        statuses = conn.execute(text("SELECT status FROM etl_runs WHERE job = 'gps' ORDER BY id")).scalars().all()
        loaded, read = conn.execute(
            text("SELECT rows_loaded, rows_read FROM etl_runs WHERE job = 'gps' AND status = 'succeeded'")
        ).one()
        fixes = conn.execute(text("SELECT count(*) FROM gps_fixes")).scalar()
    assert statuses == ["failed", "succeeded"]
    assert read > 0 and fixes > 0 and loaded <= read
