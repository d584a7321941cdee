"""ETL run bookkeeping: one ``etl_runs`` row per job and source, rejects with reasons, reconciled counts.

Every job runs through :func:`run_job`: the run row is committed first (so a failure can be
recorded), the job's writes and its rejects go into one transaction, and on any error that
transaction is rolled back and the run is marked failed with the message. A run whose loading
process died (killed, power cut) is marked failed the next time any job starts. Loads of one kind
never overlap: each holds a transaction-level advisory lock on its kind, so a second load waits for
the first to commit (then finds identical input already loaded, or merges on top of it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.engine import Connection

from etl.readers.encoding import forced_encoding_name
from geo.db import transaction
from geo.errors import EgisError
from geo.models import EtlReject, EtlRun
from geo.settings import get_settings


@dataclass
class Run:
    """What a job reports while it runs; ``read == loaded + rejected`` must hold at the end."""

    id: int
    job: str
    source_path: str
    read: int = 0
    loaded: int = 0
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Rows rejected so far."""
        return len(self.rejects)

    def reject(self, row_number: int | None, raw: Any, reason: str, source_file: str | None = None) -> None:
        """Keep a row that cannot be loaded, with its reason and raw content (cut when long: :func:`stored_raw`)."""
        self.rejects.append(
            {
                "run_id": self.id,
                "source_file": source_file or self.source_path,
                "row_number": row_number,
                "reason": reason,
                **stored_raw(raw),
            }
        )

    def warn(self, message: str) -> None:
        """A finding that does not stop the run (shown in the summary and kept on the run)."""
        if message not in self.warnings:
            self.warnings.append(message)


@dataclass(frozen=True)
class RunReport:
    """The summary of a finished run."""

    run_id: int
    job: str
    source_path: str
    status: str
    read: int
    loaded: int
    rejected: int
    seconds: float
    warnings: tuple[str, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)


def _jsonable(raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(raw, dict):
        return json.loads(json.dumps({str(k): v for k, v in raw.items()}, default=str, ensure_ascii=False))
    return {"value": json.loads(json.dumps(raw, default=str, ensure_ascii=False))}


def stored_raw(raw: Any) -> dict[str, Any]:
    """A reject's raw row as stored: ``raw`` (cut to ``EGIS_ETL_REJECT_RAW_BYTES``), ``raw_bytes``, ``raw_sha256``.

    The length and SHA-256 are of the whole row as JSON text (UTF-8), so a cut row can still be
    matched against its file; ``raw_truncated`` says whether it was cut. Long string values are
    shortened (ending in ``…``), keys and short values kept.
    """
    whole = _jsonable(raw)
    text = json.dumps(whole, ensure_ascii=False)
    data = text.encode()
    bound = get_settings().etl_reject_raw_bytes
    stored, truncated = whole, False
    if len(data) > bound and isinstance(whole, dict):
        cap = bound
        while cap > 1 and len(json.dumps(stored, ensure_ascii=False).encode()) > bound:
            cap //= 2
            stored = {k: v[:cap] + "…" if isinstance(v, str) and len(v) > cap else v for k, v in whole.items()}
        if len(json.dumps(stored, ensure_ascii=False).encode()) > bound:  # long keys or nested values
            stored = {"_truncated": data[:bound].decode(errors="ignore") + "…"}
        truncated = True
    return {
        "raw": stored,
        "raw_bytes": len(data) if whole is not None else None,
        "raw_sha256": hashlib.sha256(data).hexdigest() if whole is not None else None,
        "raw_truncated": truncated,
    }


def file_hash(path: Path) -> str:
    """SHA-256 of a file (a shapefile with its sibling files), or of every file in a folder (names and contents)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if path.suffix.lower() == ".shp":  # attributes, CRS and code page live in the sibling files
        files += sorted(p for p in path.parent.iterdir() if p.stem == path.stem and p != path and p.is_file())
    for item in files:
        if path.is_dir():
            digest.update(str(item.relative_to(path)).encode())
        with open(item, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def mark_interrupted_runs(engine: Engine) -> int:
    """Mark as failed the runs still 'running' whose database session no longer exists."""
    with engine.begin() as conn:
        result = conn.execute(
            text(
                "UPDATE etl_runs SET status = 'failed', finished_at = now(), "
                "error = 'interrupted: the loading process ended before it finished; nothing of this run was kept' "
                "WHERE status = 'running' AND (backend_pid IS NULL OR backend_pid NOT IN "
                "(SELECT pid FROM pg_stat_activity)) AND started_at < now() - interval '2 seconds'"
            )
        )
        return result.rowcount


def previous_success(conn: Connection, job: str, source_hash: str) -> int | None:
    """Id of an earlier successful run of ``job`` on identical input, if any."""
    return conn.execute(
        select(EtlRun.id)
        .where(EtlRun.job == job, EtlRun.source_hash == source_hash, EtlRun.status == "succeeded")
        .order_by(EtlRun.id.desc())
        .limit(1)
    ).scalar()


def input_identity(
    source: Path, *, source_crs: str | None = None, mapping: str | None = None, encoding: str | None = None
) -> str | None:
    """What makes two loads the same input: the file(s), the CRS and text encoding declared for them, the mapping.

    Parameters
    ----------
    source
        The file or folder read (None when it does not exist).
    source_crs
        The CRS the coordinates are declared in: the same file in another CRS is other input.
    mapping
        Fingerprint of the column mapping (:meth:`etl.mapping.Mapping.fingerprint`): a reload with a
        corrected mapping is other input, not "identical input".
    encoding
        The codec ``--encoding`` forces: the same bytes read in another encoding are other input.
    """
    if not source.exists():
        return None
    identity = file_hash(source)
    if source_crs:
        identity = hashlib.sha256(f"{identity}|crs={source_crs}".encode()).hexdigest()
    if mapping:
        identity = hashlib.sha256(f"{identity}|mapping={mapping}".encode()).hexdigest()
    if encoding:
        identity = hashlib.sha256(f"{identity}|encoding={encoding}".encode()).hexdigest()
    return identity


def lock_kind(conn: Connection, job: str) -> None:
    """Wait until no other load of ``job`` runs, then hold the kind's lock until this transaction ends."""
    key = f"etl:{job}"
    if conn.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": key}).scalar_one():
        return
    from etl.progress import stage  # etl.progress → etl.report → etl.runs: imported when needed

    with stage(f"waiting for another {job} load to finish"):
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def run_job(
    engine: Engine,
    job: str,
    source: Path | str,
    body: Callable[[Connection, Run], None],
    *,
    source_crs: str | None = None,
    mapping: str | None = None,
    force: bool = False,
    live: bool = False,
) -> RunReport:
    """Run ``body(conn, run)`` as one recorded ETL run.

    Parameters
    ----------
    engine
        Where to load.
    job
        Job name (``streets``, ``cases`` …).
    source
        The file or folder read; its hash makes a second load of identical input a no-op.
    body
        Reads, validates and writes through ``conn`` (one transaction); counts and rejects on ``run``.
    source_crs
        The CRS the input is declared in (part of its identity, as is the ``--encoding`` in force:
        :func:`etl.readers.encoding.forced_encoding`).
    mapping
        Fingerprint of the column mapping used (part of its identity).
    force
        Load even when identical input was loaded before.
    live
        A request of the live API: no kind lock (:func:`lock_kind`; it locks per device or case instead, so
        requests of many sources run side by side) and no sweep for interrupted runs on every request.

    Raises
    ------
    EgisError
        Whatever the job raised, after the run was marked failed and its writes rolled back.
    """
    source_path = Path(source)
    source_hash = input_identity(source_path, source_crs=source_crs, mapping=mapping, encoding=forced_encoding_name())
    if not live:
        mark_interrupted_runs(engine)
    began = time.perf_counter()
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(EtlRun)
            .values(job=job, source_path=str(source), source_hash=source_hash, source_crs=source_crs, status="running")
            .returning(EtlRun.id)
        ).scalar_one()
    run = Run(id=run_id, job=job, source_path=str(source))
    try:
        with engine.begin() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with engine.begin() as marker:
                marker.execute(update(EtlRun).where(EtlRun.id == run_id).values(backend_pid=pid))
            if not live:
                lock_kind(conn, job)
            earlier = previous_success(conn, job, source_hash) if source_hash and not force else None
            if earlier is not None:
                run.warn(f"identical input was loaded by run {earlier}; nothing to do")
                _finish(conn, run, "skipped", None)
                return _report(run, "skipped", began)
            body(conn, run)
            if run.read != run.loaded + run.rejected:
                raise EgisError(
                    f"counts do not reconcile in job {job}: read {run.read} != loaded {run.loaded} "
                    f"+ rejected {run.rejected} (a bug in the job)"
                )
            if run.rejects:
                conn.execute(insert(EtlReject), run.rejects)
            _finish(conn, run, "succeeded", None)
    except BaseException as exc:
        message = str(exc) if isinstance(exc, EgisError) else f"{type(exc).__name__}: {exc}"
        _finish(engine, run, "failed", message)
        raise
    return _report(run, "succeeded", began)


def run_live(conn: Connection, job: str, source: str, body: Callable[[Connection, Run], None]) -> Run:
    """Run ``body(conn, run)`` as one recorded run of the live API, inside ``conn``'s open transaction.

    Unlike :func:`run_job` the run row is written in the same transaction as the data and counted
    at its end (no row committed first, no backend-pid marker, no kind lock: a request that dies
    leaves nothing behind, and live requests lock per device or case themselves). The caller
    commits; on any error it rolls back and may record the failure with :func:`record_failed_run`.

    Parameters
    ----------
    conn
        A connection whose transaction holds the request's writes.
    job
        Job name (``api_gps``, ``api_cases``).
    source
        What the run records as its source (``api:<token source>``).
    body
        Validates and writes through ``conn``; counts and rejects on ``run`` (``run.id`` is reserved first).

    Raises
    ------
    EgisError
        When the counts do not reconcile (a bug in the job); whatever ``body`` raised.
    """
    run_id = conn.execute(  # its fixes and rejects refer to the row: written first, counted at the end
        insert(EtlRun).values(job=job, source_path=source, status="running").returning(EtlRun.id)
    ).scalar_one()
    run = Run(id=run_id, job=job, source_path=source)
    body(conn, run)
    if run.read != run.loaded + run.rejected:
        raise EgisError(
            f"counts do not reconcile in job {job}: read {run.read} != loaded {run.loaded} "
            f"+ rejected {run.rejected} (a bug in the job)"
        )
    conn.execute(update(EtlRun).where(EtlRun.id == run.id).values(**_run_values(run, "succeeded", None)))
    if run.rejects:
        conn.execute(insert(EtlReject), run.rejects)
    return run


def record_failed_run(engine: Engine, run: Run, exc: BaseException) -> None:
    """Best effort: keep a failed live run, rolled back, as a ``failed`` row; silent when the DB is down."""
    message = str(exc) if isinstance(exc, EgisError) else f"{type(exc).__name__}: {exc}"
    try:
        with engine.begin() as conn:
            values = _run_values(run, "failed", message)
            conn.execute(insert(EtlRun).values(id=run.id, job=run.job, source_path=run.source_path, **values))
    except Exception:  # the original error is what the caller raises
        return


def _run_values(run: Run, status: str, error: str | None) -> dict[str, Any]:
    return dict(
        status=status,
        error=error,
        finished_at=dt.datetime.now(dt.UTC),
        rows_read=run.read if status == "succeeded" else 0,
        rows_loaded=run.loaded if status == "succeeded" else 0,
        rows_rejected=run.rejected if status == "succeeded" else 0,
        warnings=run.warnings,
        stats=_jsonable(run.stats) or {},
    )


def _finish(bind: Engine | Connection, run: Run, status: str, error: str | None) -> None:
    values = _run_values(run, status, error)
    with transaction(bind) as conn:
        conn.execute(update(EtlRun).where(EtlRun.id == run.id).values(**values))


def _report(run: Run, status: str, began: float) -> RunReport:
    ok = status == "succeeded"
    return RunReport(
        run_id=run.id,
        job=run.job,
        source_path=run.source_path,
        status=status,
        read=run.read if ok else 0,
        loaded=run.loaded if ok else 0,
        rejected=run.rejected if ok else 0,
        seconds=time.perf_counter() - began,
        warnings=tuple(run.warnings),
        stats=run.stats,
    )
