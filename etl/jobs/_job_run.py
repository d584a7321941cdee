"""What every file job does around its own work: one recorded run under its registry kind, with its mapping."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from etl.jobs.registry import Job
from etl.mapping import load_mapping
from etl.runs import Run, RunReport, run_job


def run_file_job(
    engine: Engine,
    entry: Job,
    path: Path | str,
    body: Callable[[Connection, Run], None],
    *,
    source_crs: str | None,
    mapping: Path | None,
    force: bool,
) -> RunReport:
    """Run ``body`` as one ETL run of ``entry.kind`` (see :func:`etl.runs.run_job`).

    Parameters
    ----------
    engine
        Where to load.
    entry
        The job's registry entry.
    path
        The file or folder read.
    body
        The job's work, in the run's transaction.
    source_crs
        The CRS the input is declared in (part of its identity).
    mapping
        The ``--mapping`` file, if any: the fingerprint of the kind's mapping with it is part of
        the input's identity (a reload with a corrected mapping loads).
    force
        Load even when identical input was loaded before.
    """
    fingerprint = load_mapping(entry.kind, mapping).fingerprint()
    return run_job(engine, entry.kind, path, body, source_crs=source_crs, mapping=fingerprint, force=force)
