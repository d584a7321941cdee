"""Start the ingest API under gunicorn (``python -m etl api``), with the documented production settings."""

from __future__ import annotations

import os
import sys

GUNICORN_ARGS = (
    "--workers",
    "2",
    "--threads",
    "8",
    "--keep-alive",
    "75",  # longer than a device's or vendor platform's idle between batches: no reset connections
    "--timeout",
    "60",
    "--graceful-timeout",
    "20",
)


def gunicorn_argv(bind: str, workers: int | None = None, threads: int | None = None) -> list[str]:
    """The gunicorn command line of the API bound to ``bind`` (``workers`` / ``threads`` other than the defaults)."""
    args = [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS, "--bind", bind, "etl.api.wsgi:app"]
    for flag, value in (("--workers", workers), ("--threads", threads)):
        if value is not None:
            args[args.index(flag) + 1] = str(value)
    return args


def serve(bind: str, workers: int | None = None) -> None:
    """Replace this process by gunicorn serving the API."""
    argv = gunicorn_argv(bind, workers)
    os.execv(argv[0], argv)
