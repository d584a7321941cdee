"""The embedded cluster's lifecycle, on a private cluster so the shared one keeps running."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from geo.db.cluster import Cluster
from geo.errors import SetupError
from geo.settings import PROJECT_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def private_cluster() -> Iterator[Cluster]:
    # Under the project's var/ (not /tmp/pytest-of-root, which the postgres OS user cannot reach).
    var_dir = PROJECT_ROOT / "var" / "test-clusters" / uuid.uuid4().hex[:8]
    cluster = Cluster(var_dir, _free_port())
    yield cluster
    cluster.stop()
    shutil.rmtree(var_dir, ignore_errors=True)


def _query(cluster: Cluster, database: str = "postgres") -> int:
    with psycopg.connect(cluster._dsn(database)) as conn:
        return conn.execute("SELECT 1").fetchone()[0]


def test_start_initialises_then_reuses(private_cluster: Cluster) -> None:
    assert not private_cluster.initialized
    assert private_cluster.start() is True
    assert private_cluster.initialized
    assert _query(private_cluster) == 1
    pid = private_cluster.status().pid
    assert private_cluster.start() is False  # second start reuses the running server
    assert private_cluster.status().pid == pid


def test_database_with_postgis_is_created_once(private_cluster: Cluster) -> None:
    private_cluster.start()
    assert private_cluster.ensure_database("lifecycle") is True
    assert private_cluster.ensure_database("lifecycle") is False
    with psycopg.connect(private_cluster._dsn("lifecycle")) as conn:
        assert conn.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3")


def test_server_listens_on_loopback_tcp_with_password(private_cluster: Cluster) -> None:
    private_cluster.start()
    password = (private_cluster.root / "superuser.password").read_text().strip()
    dsn = f"host=127.0.0.1 port={private_cluster.port} user=egis password={password} dbname=postgres"
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"host=127.0.0.1 port={private_cluster.port} user=egis password=wrong dbname=postgres")


def test_stop_then_status_then_start(private_cluster: Cluster) -> None:
    private_cluster.start()
    assert private_cluster.stop() is True
    assert private_cluster.status().running is False
    assert private_cluster.stop() is False
    assert private_cluster.start() is True
    assert _query(private_cluster) == 1


def test_restart_after_killed_server(private_cluster: Cluster) -> None:
    private_cluster.start()
    pid = private_cluster.status().pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and private_cluster.status().running:
        time.sleep(0.2)
    assert (private_cluster.data_dir / "postmaster.pid").exists()  # stale pid file left behind
    deadline = time.monotonic() + 30
    while True:  # backends notice the dead postmaster and exit; then start must succeed
        try:
            assert private_cluster.start() is True
            break
        except SetupError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert _query(private_cluster) == 1


def test_stale_pid_file_from_another_process_is_recovered(private_cluster: Cluster) -> None:
    private_cluster.start()
    private_cluster.stop()
    # a pid file naming a live process that is not PostgreSQL (pid reuse after a crash)
    (private_cluster.data_dir / "postmaster.pid").write_text(f"{os.getpid()}\n{private_cluster.data_dir}\n")
    assert private_cluster.start() is True
    assert _query(private_cluster) == 1


def test_port_in_use_is_one_clear_message(private_cluster: Cluster) -> None:
    private_cluster.start()
    private_cluster.stop()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        other = Cluster(private_cluster.root.parent, busy.getsockname()[1])
        with pytest.raises(SetupError, match=r"port \d+ on 127.0.0.1 is already in use.*EGIS_PG_PORT"):
            other.start()


def test_unwritable_var_dir_is_one_clear_message(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(SetupError, match="EGIS_VAR_DIR"):
        Cluster(blocker / "var", _free_port()).start()


def test_cli_reports_problems_without_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["EGIS_VAR_DIR"] = str(blocker / "var")
    result = subprocess.run(
        [sys.executable, "-m", "geo.db", "start"], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "EGIS_VAR_DIR" in result.stderr
