"""The embedded PostgreSQL + PostGIS cluster under ``var/pg`` in the project folder.

initdb on first use, start (unix socket in the project folder plus 127.0.0.1 on a configurable
port), create databases with PostGIS, stop. Every step is idempotent; a second start reuses a
running server and a stale ``postmaster.pid`` left by a killed server is removed. PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres`` OS user.
"""

from __future__ import annotations

import fcntl
import grp
import hashlib
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from geo.errors import DatabaseError, SetupError
from geo.settings import get_settings

SUPERUSER = "egis"
SERVER_OS_USER = "postgres"
_SOCKET_PATH_MAX = 100  # unix socket paths are limited to 107 bytes on Linux

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "shared_buffers": "'256MB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'256MB'",
    "max_wal_size": "'2GB'",
    "synchronous_commit": "off",
    "max_connections": "200",
    "timezone": "'UTC'",
    "log_min_messages": "warning",
}


@dataclass(frozen=True)
class ClusterStatus:
    """What ``status`` reports."""

    initialized: bool
    running: bool
    pid: int | None
    port: int
    data_dir: Path
    socket_dir: Path


def _run(cmd: list[str], *, user: str | None = None, check: bool = True, **kw) -> subprocess.CompletedProcess:
    kwargs = dict(capture_output=True, text=True, **kw)
    if user:
        kwargs.update(user=user, group=pwd.getpwnam(user).pw_gid, extra_groups=[])
        kwargs.setdefault("cwd", "/")
    result = subprocess.run(cmd, **kwargs)
    if check and result.returncode != 0:
        raise SetupError(f"command failed: {' '.join(cmd)}\n{result.stderr.strip() or result.stdout.strip()}")
    return result


def _major_of(bindir: Path) -> int:
    out = _run([str(bindir / "postgres"), "--version"]).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise SetupError(f"cannot tell the PostgreSQL version from {out!r}")
    return int(match.group(1))


def _find_bindir(configured: Path | None) -> Path | None:
    if configured:
        return configured if (configured / "postgres").exists() else None
    candidates = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "postgres").exists() and (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    found = shutil.which("initdb")
    if found:
        bindir = Path(found).resolve().parent
        if (bindir / "postgres").exists():
            return bindir
    return None


# Extensions every database gets, with the Debian package (per server major version) that provides them.
EXTENSION_PACKAGES = (
    ("postgis", "postgresql-{major}-postgis-3", "PostGIS"),
    ("pgrouting", "postgresql-{major}-pgrouting", "pgRouting (routing on the street network, plans/)"),
    ("pg_partman", "postgresql-{major}-partman", "pg_partman (time partitions of gps_fixes, geo/partitions.py)"),
)
EXTENSIONS = tuple(name for name, _, _ in EXTENSION_PACKAGES)
EXTENSION_SCHEMAS = {"pg_partman": "partman"}  # extensions kept out of the public schema


def create_extension_statements(extension: str) -> list[str]:
    """The SQL that creates ``extension`` if missing (in its own schema when it has one)."""
    schema = EXTENSION_SCHEMAS.get(extension)
    if schema is None:
        return [f"CREATE EXTENSION IF NOT EXISTS {extension}"]
    return [f"CREATE SCHEMA IF NOT EXISTS {schema}", f"CREATE EXTENSION IF NOT EXISTS {extension} SCHEMA {schema}"]


def _apt_install(packages: list[str]) -> None:
    """Install Debian packages as root (refreshing the package lists once if needed)."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True, env=env)
        result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SetupError(f"apt-get install {' '.join(packages)} failed:\n{result.stderr.strip()[-2000:]}")


def _can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def ensure_server_binaries(configured: Path | None = None) -> Path:
    """Return the PostgreSQL bin folder, installing PostgreSQL/PostGIS as root on Debian if missing.

    Raises
    ------
    SetupError
        When something is missing and cannot be installed here; the message names the package.
    """
    bindir = _find_bindir(configured)
    if bindir is None:
        if configured:
            raise SetupError(f"EGIS_PG_BINDIR={configured} holds no PostgreSQL server (no 'postgres' there)")
        if not _can_apt():
            raise SetupError(
                "PostgreSQL server is not installed: install the packages postgresql-15 and "
                "postgresql-15-postgis-3 (sudo apt-get install postgresql-15 postgresql-15-postgis-3), "
                "or set DATABASE_URL to an existing PostGIS server"
            )
        _apt_install(["postgresql"])
        bindir = _find_bindir(None)
        if bindir is None:
            raise SetupError(
                "installed the 'postgresql' package but found no server binaries under /usr/lib/postgresql"
            )
    major = _major_of(bindir)
    for extension, package, what in EXTENSION_PACKAGES:
        control = Path(f"/usr/share/postgresql/{major}/extension/{extension}.control")
        package = package.format(major=major)
        if control.exists():
            continue
        if not _can_apt():
            raise SetupError(
                f"{what} is not installed for PostgreSQL {major}: install the package {package} "
                f"(sudo apt-get install {package})"
            )
        _apt_install([package])
        if not control.exists():
            raise SetupError(f"installed {package} but {control} is still missing")
    return bindir


def _reachable_by(user: str, path: Path) -> bool:
    """Whether OS user ``user`` can enter every existing folder above ``path`` (by permission bits).

    A path whose nearest existing ancestor is not a folder counts as reachable, so that creating
    it fails later with a clear message instead of silently moving elsewhere.
    """
    account = pwd.getpwnam(user)
    groups = {account.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    existing = next((p for p in [path, *path.parents] if p.exists()), Path("/"))
    if not existing.is_dir():
        return True
    for folder in [existing, *existing.parents]:
        info = folder.stat()
        if info.st_uid == account.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return False
    return True


class Cluster:
    """One embedded cluster: a data folder, a socket folder, a port, and the server binaries."""

    def __init__(self, var_dir: Path, port: int, bindir: Path | None = None) -> None:
        self.run_as = SERVER_OS_USER if os.geteuid() == 0 else None
        root = Path(var_dir).resolve() / "pg"
        digest = hashlib.sha1(str(root).encode()).hexdigest()[:12]
        if self.run_as and not _reachable_by(self.run_as, root):
            # As root in a folder the postgres OS user cannot enter (e.g. under /root): keep the
            # cluster in a folder of its own under /var/tmp, named after the project's var folder.
            root = Path("/var/tmp") / f"egis-pg-{digest}"
        self.root = root
        self.data_dir = self.root / "data"
        self.log_file = self.root / "log" / "postgresql.log"
        self.port = port
        self._bindir = bindir
        socket_dir = self.root / "run"
        if len(str(socket_dir / f".s.PGSQL.{port}")) > _SOCKET_PATH_MAX:
            socket_dir = Path(tempfile.gettempdir()) / f"egis-pg-{digest}"
        self.socket_dir = socket_dir

    @classmethod
    def from_settings(cls) -> Cluster:
        """The cluster described by the current settings."""
        settings = get_settings()
        return cls(settings.var_dir, settings.pg_port, settings.pg_bindir)

    # -- paths and state ----------------------------------------------------------------
    @property
    def bindir(self) -> Path:
        """Server binaries (installed on first use when missing and possible)."""
        if self._bindir is None or not (self._bindir / "postgres").exists():
            self._bindir = ensure_server_binaries(self._bindir)
        return self._bindir

    def url(self, database: str) -> URL:
        """SQLAlchemy URL of ``database`` over the cluster's unix socket."""
        return URL.create(
            "postgresql+psycopg",
            username=SUPERUSER,
            database=database,
            query={"host": str(self.socket_dir), "port": str(self.port)},
        )

    @property
    def initialized(self) -> bool:
        """True when initdb has run."""
        return (self.data_dir / "PG_VERSION").exists()

    def _pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            first = pid_file.read_text().splitlines()[0]
            return int(first)
        except (OSError, ValueError, IndexError):
            return None

    @staticmethod
    def _is_postgres(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip().startswith("postgres")
        except OSError:
            return False

    def status(self) -> ClusterStatus:
        """Whether the cluster exists and runs."""
        pid = self._pid()
        running = pid is not None and self._is_postgres(pid) and self._answers()
        return ClusterStatus(
            self.initialized, running, pid if running else None, self.port, self.data_dir, self.socket_dir
        )

    def _answers(self) -> bool:
        try:
            with psycopg.connect(self._dsn("postgres"), connect_timeout=3):
                return True
        except psycopg.Error:
            return False

    def _dsn(self, database: str) -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={database}"

    # -- lifecycle ------------------------------------------------------------------------
    @contextmanager
    def _lock(self) -> Iterator[None]:
        self._prepare_dirs()
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _prepare_dirs(self) -> None:
        try:
            for folder in (self.root, self.root / "log", self.socket_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SetupError(
                f"cannot create {exc.filename} ({exc.strerror}): make the folder writable or set EGIS_VAR_DIR "
                "to a folder you can write"
            ) from exc
        if not os.access(self.root, os.W_OK):
            raise SetupError(f"no write access to {self.root}: make it writable or set EGIS_VAR_DIR elsewhere")
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            for folder in (self.root, self.root / "log", self.socket_dir):
                os.chown(folder, user.pw_uid, user.pw_gid)
            if self.data_dir.exists():
                os.chown(self.data_dir, user.pw_uid, user.pw_gid)
            if self.log_file.exists():
                os.chown(self.log_file, user.pw_uid, user.pw_gid)
            reach = _run(["test", "-w", str(self.root)], user=self.run_as, check=False)
            if reach.returncode != 0:
                raise SetupError(
                    f"the '{self.run_as}' OS user, which runs the server when you are root, cannot write "
                    f"{self.root} (a parent folder is closed to it): move the project or set EGIS_VAR_DIR "
                    "to a folder under /var or /srv"
                )
        os.chmod(self.socket_dir, 0o700)

    def _initdb(self) -> None:
        password = secrets.token_urlsafe(24)
        secret_file = self.root / "superuser.password"
        secret_file.write_text(password + "\n")
        os.chmod(secret_file, 0o600)
        with tempfile.NamedTemporaryFile("w", dir=self.root, delete=False) as handle:
            handle.write(password + "\n")
            pwfile = Path(handle.name)
        try:
            if self.run_as:
                user = pwd.getpwnam(self.run_as)
                os.chown(pwfile, user.pw_uid, user.pw_gid)
            _run(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                user=self.run_as,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.data_dir / "postgresql.conf"
        _append_include(conf, "egis.conf", self.run_as)

    def _write_runtime_conf(self) -> None:
        lines = [f"{k} = {v}" for k, v in SERVER_SETTINGS.items()]
        lines += [f"port = {self.port}", f"unix_socket_directories = '{self.socket_dir}'"]
        target = self.data_dir / "egis.conf"
        target.write_text("# written by geo.db.cluster on every start\n" + "\n".join(lines) + "\n")
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(target, user.pw_uid, user.pw_gid)

    def _remove_stale_pid(self) -> None:
        pid = self._pid()
        if pid is None:
            return
        if not self._is_postgres(pid):
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
            for stale in self.socket_dir.glob(f".s.PGSQL.{self.port}*"):
                stale.unlink(missing_ok=True)

    def _check_port_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError as exc:
                raise SetupError(
                    f"port {self.port} on 127.0.0.1 is already in use by another program ({exc.strerror}): "
                    "stop that program or set EGIS_PG_PORT to a free port"
                ) from exc

    def start(self) -> bool:
        """Start the cluster (initdb first if needed). Returns False when it was already running."""
        with self._lock():
            if self.initialized and self.status().running:
                return False
            if not self.initialized:
                if self.data_dir.exists() and any(self.data_dir.iterdir()):
                    raise SetupError(
                        f"{self.data_dir} exists but is not a PostgreSQL data folder: move it away and start again"
                    )
                self._initdb()
            self._remove_stale_pid()
            if self._pid() is not None:
                raise SetupError(
                    f"a PostgreSQL server with pid {self._pid()} holds {self.data_dir} but does not answer on "
                    f"{self.socket_dir}: stop it (kill {self._pid()}) and start again"
                )
            self._check_port_free()
            self._write_runtime_conf()
            result = _run(
                [
                    str(self.bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "90",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                ],
                user=self.run_as,
                check=False,
            )
            if result.returncode != 0 or not self._answers():
                raise SetupError(f"PostgreSQL did not start; last lines of {self.log_file}:\n{self._log_tail()}")
            return True

    def stop(self) -> bool:
        """Stop the cluster. Returns False when it was not running."""
        with self._lock():
            if not self.initialized or not self.status().running:
                self._remove_stale_pid()
                return False
            _run([str(self.bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)], user=self.run_as)
            return True

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def ensure_database(self, name: str) -> bool:
        """Create ``name`` with PostGIS if missing. Returns True when it was created."""
        created = False
        try:
            with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    created = True
            with psycopg.connect(self._dsn(name), autocommit=True) as conn:
                for extension in EXTENSIONS:
                    for statement in create_extension_statements(extension):
                        conn.execute(statement)
        except psycopg.Error as exc:
            raise DatabaseError(f"cannot prepare database {name!r} in the embedded cluster: {exc}") from exc
        return created


def _append_include(conf: Path, include: str, owner: str | None) -> None:
    text = conf.read_text()
    line = f"include_if_exists = '{include}'"
    if line not in text:
        conf.write_text(text + f"\n{line}\n")
    if owner:
        user = pwd.getpwnam(owner)
        os.chown(conf, user.pw_uid, user.pw_gid)
