"""What one ingest request did: accepted, duplicates, rejected by index (the API's answer)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from etl.runs import Run, record_failed_run, run_live

DUPLICATE = "duplicate: "  # reason prefix of items already stored (kept as rejects, answered as duplicates)


@dataclass
class Outcome:
    """The answer to one batch; ``accepted + duplicates + len(rejected)`` is the number of items sent."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None
    malformed: int = 0  # items rejected for their form (not parseable as a fix or event at all)

    @classmethod
    def of(cls, run: Run) -> Outcome:
        """From a finished run: its rejects split into duplicates and the rest (by item index)."""
        rejected = [
            {"index": r["row_number"], "reason": r["reason"]}
            for r in run.rejects
            if not str(r["reason"]).startswith(DUPLICATE)
        ]
        duplicates = run.rejected - len(rejected)
        ordered = sorted(rejected, key=lambda r: r["index"])
        return cls(run.loaded, duplicates, ordered, run.id, int(run.stats.get("malformed", 0)))

    def answer(self) -> dict[str, Any]:
        """The JSON body of the response."""
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def run_batch(
    bind: Engine | Connection, job: str, source: str, items: list[Any], work: Callable[[Connection, Run], None]
) -> Outcome:
    """Run ``work(conn, run)`` on a batch of ``items`` from ``source`` as one live run in one transaction; its answer.

    ``bind`` is an engine, or a connection the caller opened (e.g. to check the token on it): its
    transaction is committed here, or rolled back and the failure recorded (best effort).
    """
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return run_batch(conn, job, source, items, work)
    holder: dict[str, Run] = {}

    def body(conn: Connection, run: Run) -> None:
        holder["run"] = run
        run.read = len(items)
        work(conn, run)

    try:
        run = run_live(bind, job, f"api:{source}", body)
        bind.commit()
    except BaseException as exc:
        with contextlib.suppress(Exception):  # a dead connection: the server rolled the transaction back
            bind.rollback()
        if "run" in holder:
            record_failed_run(bind.engine, holder["run"], exc)
        raise
    return Outcome.of(run)
