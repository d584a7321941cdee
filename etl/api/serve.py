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


def gunicorn_argv(bind: str, workers: int | None = None) -> list[str]:
    """The gunicorn command line of the API bound to ``bind``."""
    args = [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS, "--bind", bind, "etl.api.wsgi:app"]
    if workers is not None:
        args[args.index("--workers") + 1] = str(workers)
    return args


def serve(bind: str, workers: int | None = None) -> None:
    """Replace this process by gunicorn serving the API."""
    argv = gunicorn_argv(bind, workers)
    os.execv(argv[0], argv)
