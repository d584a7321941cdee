"""ETL run bookkeeping: reconciled counts, rejects kept, failures roll back, interrupted runs marked failed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from etl.runs import mark_interrupted_runs, run_job
from geo.errors import InputError
from geo.models import EtlReject, EtlRun, Squad
from geo.settings import PROJECT_ROOT


def _squads(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Squad)).scalar_one()


def test_rejects_are_kept_and_counts_reconcile(schema_engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "rows.txt"
    source.write_text("A\nB\n\n")

    def body(conn, run) -> None:
        for number, line in enumerate(source.read_text().split("\n"), start=1):
            run.read += 1
            if not line:
                run.reject(number, {"line": line}, "empty line")
                continue
            conn.execute(Squad.__table__.insert().values(code=line, name=f"{line}中队"))
            run.loaded += 1

    report = run_job(schema_engine, "test", source, body)
    assert (report.status, report.read, report.loaded, report.rejected) == ("succeeded", 4, 2, 2)
    with schema_engine.connect() as conn:
        run = conn.execute(select(EtlRun.__table__).where(EtlRun.id == report.run_id)).one()
        reasons = conn.execute(select(EtlReject.reason, EtlReject.row_number).order_by(EtlReject.id)).all()
    assert (run.rows_read, run.rows_loaded, run.rows_rejected) == (4, 2, 2)
    assert reasons == [("empty line", 3), ("empty line", 4)]

    again = run_job(schema_engine, "test", source, body)
    assert again.status == "skipped" and _squads(schema_engine) == 2


def test_a_failed_run_leaves_the_database_as_it_was(schema_engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "bad.txt"
    source.write_text("x")

    def body(conn, run) -> None:
        conn.execute(Squad.__table__.insert().values(code="Z1", name="写了一半"))
        run.read += 1
        run.loaded += 1
        raise InputError(f"cannot read {source}: broken on purpose")

    with pytest.raises(InputError, match="broken on purpose"):
        run_job(schema_engine, "test", source, body)
    assert _squads(schema_engine) == 0
    with schema_engine.connect() as conn:
        run = conn.execute(select(EtlRun.__table__)).one()
    assert run.status == "failed" and "broken on purpose" in run.error and run.rows_loaded == 0


def test_counts_that_do_not_reconcile_fail_the_run(schema_engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "x.txt"
    source.write_text("x")

    def body(conn, run) -> None:
        run.read += 2
        run.loaded += 1

    with pytest.raises(Exception, match="do not reconcile"):
        run_job(schema_engine, "test", source, body)


def test_a_killed_load_is_rolled_back_and_marked_failed(schema_url, schema_engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "slow.txt"
    source.write_text("slow")
    script = f"""
import time
from geo.db import get_engine
from geo.models import Squad
from etl.runs import run_job
def body(conn, run):
    conn.execute(Squad.__table__.insert().values(code="K1", name="被杀中队"))
    print("inserted", flush=True)
    time.sleep(60)
run_job(get_engine({schema_url.render_as_string(hide_password=False)!r}), "slow", {str(source)!r}, body)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "inserted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(2.5)  # the server notices the closed connection and rolls back
    assert mark_interrupted_runs(schema_engine) == 1
    with schema_engine.connect() as conn:
        status, error = conn.execute(select(EtlRun.status, EtlRun.error)).one()
        assert conn.execute(text("SELECT count(*) FROM squads")).scalar() == 0
    assert status == "failed" and "interrupted" in error
