"""Ingest one batch of case events through the case job's steps (one set of rules with the case export).

An event is ``{"case_number", "stage": received|dispatched|arrived|closed, "time", …case fields…}``;
it sets that stage's time (and the status, unless it gives one) and whatever case fields it
carries, then the case is validated, geocoded, placed, given its squad and due time and merged
exactly as a row of the export (:class:`etl.jobs.cases.CaseLoader`). The key (case number, stage,
time) in ``case_events`` makes a re-sent event a duplicate. Several events of one case in a batch
are applied in time order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._case_checks import STAGE_STATUS, STAGES
from etl.jobs._case_row import TEXT_FIELDS, CaseRow
from etl.jobs.cases import CaseLoader
from etl.live.outcome import DUPLICATE, Outcome, run_batch
from etl.mapping import load_mapping
from etl.runs import Run
from geo.case_number import normalize_case_number
from geo.models import CASE_EVENT_STAGES
from geo.region import get_region

JOB = "api_cases"
EVENT_FIELDS = frozenset({"case_number", *TEXT_FIELDS, *STAGES, "lon", "lat"})
EVENT_CRS = "gcj02"  # phone coordinates, as in the export


def ingest_events(engine: Engine | Connection, source: str, items: list[Any]) -> Outcome:
    """Apply a batch of case events sent by ``source`` as one run; the answer says what became of each."""
    region = get_region()
    return run_batch(engine, JOB, source, items, lambda conn, run: LiveCases(conn, run, region, source).load(items))


def event_row(index: int, item: Any, source: str) -> CaseRow:
    """A case event as a row of the export (model fields as text).

    Raises
    ------
    ValueError
        When the event is not an object, names no known stage or gives no time.
    """
    if not isinstance(item, dict):
        raise ValueError("an event must be an object with case_number, stage, time")
    stage = str(item.get("stage") or "").strip()
    if stage not in CASE_EVENT_STAGES:
        raise ValueError(f"stage must be one of {', '.join(CASE_EVENT_STAGES)}, not {item.get('stage')!r}")
    if not str(item.get("time") or "").strip():
        raise ValueError("time is missing")
    values = {k: "" if v is None else str(v) for k, v in item.items() if k in EVENT_FIELDS}
    column = f"{stage}_at"
    values[column] = str(item["time"])
    if not values.get("status"):
        values["status"] = STAGE_STATUS[column]
    return CaseRow(f"api:{source}", 0, index, values, dict(item), frozenset(values))


class LiveCases:
    """The work of one batch of events inside its run's transaction."""

    def __init__(self, conn: Connection, run: Run, region: Any, source: str) -> None:
        self.conn, self.run, self.region, self.source = conn, run, region, source
        self.mapping = load_mapping("cases")

    def load(self, items: list[Any]) -> None:
        """Turn events into rows, lock their cases, apply them in waves (one event per case per wave)."""
        rows: list[CaseRow] = []
        for index, item in enumerate(items):
            try:
                rows.append(event_row(index, item, self.source))
            except ValueError as exc:
                self.run.reject(index, item, str(exc))
                self.run.stats["malformed"] = self.run.stats.get("malformed", 0) + 1
        numbers = sorted({normalize_case_number(r.values.get("case_number")) for r in rows} - {""})
        self.conn.execute(
            text(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext('case:' || n) AS h "
                "FROM unnest(CAST(:n AS text[])) n ORDER BY 1) q"
            ),
            {"n": numbers},
        )
        waves: list[list[CaseRow]] = []
        seen: dict[str, int] = {}
        for row in sorted(rows, key=lambda r: (r.values.get(_stage_column(r)) or "", r.row_number)):
            number = normalize_case_number(row.values.get("case_number"))
            wave = seen.get(number, 0)
            seen[number] = wave + 1
            while len(waves) <= wave:
                waves.append([])
            waves[wave].append(row)
        for wave in waves:
            crs = EVENT_CRS
            loader = CaseLoader(self.conn, self.run, self.region, crs, {}, self.mapping, accept_foreign=True)
            loader.process(wave, admit=self._admit)

    def _admit(self, rows: list[CaseRow]) -> list[CaseRow]:
        """Record each valid event's key; an event whose key is stored already is a duplicate."""
        kept = []
        for row in rows:
            column = _stage_column(row)
            when = row.given.get(column)
            inserted = self.conn.execute(
                text(
                    "INSERT INTO case_events (case_number, stage, event_time, source, run_id) "
                    "VALUES (:n, :s, :t, :src, :run) ON CONFLICT DO NOTHING RETURNING id"
                ),
                {"n": row.number, "s": column.removesuffix("_at"), "t": when, "src": self.source, "run": self.run.id},
            ).first()
            if inserted is None:
                self.run.reject(row.row_number, row.raw, DUPLICATE + "this event of this case is already stored")
            else:
                kept.append(row)
        return kept


def _stage_column(row: CaseRow) -> str:
    """The stage time column an event row sets (``received_at`` …)."""
    return f"{row.raw.get('stage')}_at"
