"""What one ingest request did: accepted, duplicates, rejected by index (the API's answer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from etl.runs import Run, run_job

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
    engine: Engine, job: str, source: str, items: list[Any], work: Callable[[Connection, Run], None]
) -> Outcome:
    """Run ``work(conn, run)`` on a batch of ``items`` from ``source`` as one live run; its answer."""
    holder: dict[str, Run] = {}

    def body(conn: Connection, run: Run) -> None:
        holder["run"] = run
        run.read = len(items)
        work(conn, run)

    run_job(engine, job, f"api:{source}", body, live=True)
    return Outcome.of(holder["run"])
