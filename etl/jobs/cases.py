"""Load the provincial case-system export: geocode, check coordinates, squad and stage times, merge by case number.

``python -m etl load cases PATH`` (PATH a CSV/XLSX file, a zip or a folder of them). Every row
read is either merged into ``cases`` or rejected with its reason; an address that matches
nothing still loads (no point, level 未匹配) and shows up in ``python -m etl review``.

A re-export updates only what it carries: a column the file does not have, or an empty cell
(unless the mapping says ``blanks_clear``), leaves the stored value as it is; an address that
did not come is not geocoded again. Every changed field is kept in ``change_history``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._case_checks import STAGES, TimeBounds, check_stages, parse_stages
from etl.jobs._case_place import place, refuse_foreign
from etl.jobs._case_record import records, report
from etl.jobs._case_row import STORED_COLUMNS, TEXT_FIELDS, CaseRow
from etl.jobs._case_squads import assign_squads
from etl.jobs.registry import job
from etl.mapping import Mapping, load_mapping
from etl.readers.input_files import SourceFile, source_config, source_files
from etl.readers.tabular import CSV_SUFFIXES, EXCEL_SUFFIXES, read_table
from etl.runs import Run, RunReport, run_job
from etl.source_crs import input_crs
from etl.upsert import merge, stored_rows
from geo.case_number import normalize_case_number
from geo.case_segments import assign_case_segments
from geo.geocode import GeocodeResult, load_geocoder
from geo.geocode.normalize import fold_width
from geo.models import Case
from geo.region import Region, get_region


def load(
    engine: Engine,
    path: Path,
    *,
    crs: str | None = None,
    mapping: Path | None = None,
    force: bool = False,
    accept_foreign: bool = False,
) -> RunReport:
    """Load case exports into ``cases`` as one ETL run.

    Parameters
    ----------
    engine
        Where to load.
    path
        A CSV/XLSX export, a zip or a folder of them.
    crs
        CRS of the 经度/纬度 columns; wins over ``source.toml``; GCJ-02 (phone apps) by default.
    mapping
        A column-mapping file overriding the default headers (and options: ``blanks_clear``,
        ``date_formats``); part of the input's identity.
    force
        Load even when identical input was loaded before.
    accept_foreign
        Load a file whose rows mostly lie outside the region or match no address in it (by default
        such a file stops the run before anything is loaded).
    """
    path = Path(path)
    config = source_config(path)
    coord_crs = input_crs(crs, config, source=str(path), default="gcj02")
    region = get_region()
    columns = load_mapping("cases", mapping)

    def body(conn: Connection, run: Run) -> None:
        CaseLoader(conn, run, region, coord_crs, config, columns, accept_foreign=accept_foreign).load(path)

    return run_job(engine, "cases", path, body, source_crs=coord_crs, mapping=columns.fingerprint(), force=force)


class CaseLoader:
    """The work of one case run: read, validate, geocode here; place (:mod:`etl.jobs._case_place`), assign
    squads (:mod:`etl.jobs._case_squads`), build records and report (:mod:`etl.jobs._case_record`), merge."""

    def __init__(
        self,
        conn: Connection,
        run: Run,
        region: Region,
        crs: str,
        config: dict[str, Any],
        mapping: Mapping,
        *,
        accept_foreign: bool = False,
    ) -> None:
        self.conn, self.run, self.region, self.crs = conn, run, region, crs
        self.tz = ZoneInfo(config["timezone"]) if config.get("timezone") else region.tz
        self.mapping = mapping
        self.accept_foreign = accept_foreign
        self.now = dt.datetime.now(dt.UTC)
        self.bounds = TimeBounds.for_region(region, self.now)

    # -- the steps --------------------------------------------------------------------------
    def load(self, path: Path) -> None:
        """Run every step; counts and rejects go to ``self.run``."""
        seconds: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(step: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            seconds[step] = round(now - clock, 3)
            clock = now

        with source_files(path, CSV_SUFFIXES | EXCEL_SUFFIXES) as files:
            rows = self.read(files)
        self.run.read += len(rows)
        lap("read")
        self.process(rows, lap)
        self.run.stats["seconds"] = seconds

    def process(
        self,
        rows: list[CaseRow],
        lap: Callable[[str], None] = lambda step: None,
        admit: Callable[[list[CaseRow]], list[CaseRow]] | None = None,
    ) -> list[CaseRow]:
        """Identify, validate, deduplicate, geocode, place, assign squads and merge rows already counted as read.

        The steps every case row goes through, from a file or from the live API (:mod:`etl.live.cases`).
        ``admit`` (the API's idempotence key) may drop valid rows before anything is written. Returns
        the rows merged.
        """
        rows = self.identify(rows)
        stored = stored_rows(self.conn, Case.__table__, "case_number", [r.number for r in rows], STORED_COLUMNS)
        for row in rows:
            row.stored = stored.get(row.number)
        rows = self.deduplicate(self.validate(rows))
        if admit is not None:
            rows = admit(rows)
        lap("validate")
        results = self.geocode(rows)
        lap("geocode")
        place(rows, results, self.region, self.crs, self.run)
        refuse_foreign(rows, results, self.region, self.run, self.accept_foreign)
        assign_squads(self.conn, rows, results)
        lap("coordinates_and_squads")
        rows = records(rows, results, self.region, self.run)
        merged = merge(
            self.conn,
            Case.__table__,
            [row.record for row in rows],
            job("cases").merge_key,
            ignore=("run_id", "attrs"),
            history_run=self.run.id,
        )
        self.run.loaded += len(rows)
        lap("merge")
        self.run.stats["case_segments"] = asdict(assign_case_segments(self.conn, self.region, self.ids(rows)))
        lap("segments")
        report(self.run, rows, results, merged, self.region)
        return rows

    def ids(self, rows: list[CaseRow]) -> list[int]:
        """Database ids of the loaded rows' cases."""
        numbers = [row.number for row in rows]
        found = self.conn.execute(text("SELECT id FROM cases WHERE case_number = ANY(:n)"), {"n": numbers})
        return list(found.scalars())

    def read(self, files: list[SourceFile]) -> list[CaseRow]:
        """Every data row of every table file, mapped to model fields."""
        rows: list[CaseRow] = []
        for index, source in enumerate(files):
            table = read_table(source.path, encoding=source.encoding, name=source.name)
            shown = source.name
            present = frozenset(self.mapping.resolve(list(table.frame.columns)))
            mapped = self.mapping.apply(table.frame, shown)
            raws = table.frame.to_dict("records")
            for position, values in enumerate(mapped.to_dict("records")):
                if position in table.problems:  # e.g. a cell longer than the limit: rejected, not loaded
                    self.run.read += 1
                    self.run.reject(table.row_number(position), raws[position], table.problems[position], shown)
                    continue
                rows.append(
                    CaseRow(
                        shown,
                        index,
                        table.row_number(position),
                        {k: str(v) for k, v in values.items()},
                        raws[position],
                        present,
                    )
                )
        return rows

    def identify(self, rows: list[CaseRow]) -> list[CaseRow]:
        """Normalise each case number (:func:`geo.case_number.normalize_case_number`); reject empty or too long."""
        kept: list[CaseRow] = []
        for row in rows:
            row.number = normalize_case_number(row.values.get("case_number"))
            if not row.number:
                self.run.reject(row.row_number, row.raw, "case number (案件编号) is empty", row.file)
            elif len(row.number) > 64:
                self.run.reject(
                    row.row_number, row.raw, "case number (案件编号) is longer than 64 characters", row.file
                )
            else:
                kept.append(row)
        return kept

    def validate(self, rows: list[CaseRow]) -> list[CaseRow]:
        """Reject rows that cannot be cases; parse what each row gives and flag the stage times of the result."""
        kept: list[CaseRow] = []
        for row in rows:
            given = self.mapping.given(row.values, row.present)
            times = {s: given.pop(s) for s in STAGES if s in given}
            parsed = parse_stages(times, self.tz, self.bounds, self.mapping.date_formats)
            if parsed.reject:
                self.run.reject(row.row_number, row.raw, parsed.reject, row.file)
                continue
            # Text stored width-folded (解放街１８８ → 解放街188): the case search folds its query the same way.
            row.given = {
                f: fold_width(v) if isinstance(v, str) and f in TEXT_FIELDS else v
                for f, v in given.items()
                if f in TEXT_FIELDS or f in ("lon", "lat")
            }
            row.given.update(parsed.times)
            stages = check_stages({s: row.effective(s) for s in STAGES}, row.effective("status"), self.now)
            if stages.reject:
                self.run.reject(row.row_number, row.raw, stages.reject, row.file)
                continue
            for check in (parsed, stages):
                for flag in check.flags:
                    row.flags.append(flag)
            row.notes.setdefault("time", []).extend(parsed.notes + stages.notes)
            kept.append(row)
        return kept

    def deduplicate(self, rows: list[CaseRow]) -> list[CaseRow]:
        """One row per case number: the one with most stage times, then the later one; the others are rejects."""
        groups: dict[str, list[CaseRow]] = {}
        for row in rows:
            groups.setdefault(row.number, []).append(row)
        kept: list[CaseRow] = []
        for group in groups.values():
            best = max(group, key=CaseRow.completeness)
            kept.append(best)
            for other in group:
                if other is not best:
                    self.run.reject(
                        other.row_number,
                        other.raw,
                        f"duplicate case number {best.number} in this load; kept the more complete "
                        f"or later row {best.file} row {best.row_number}",
                        other.file,
                    )
        return kept

    def geocode(self, rows: list[CaseRow]) -> list[GeocodeResult | None]:
        """Geocode the address of new cases and of rows that give one; None where the stored geocode stays."""
        wanted = [i for i, row in enumerate(rows) if row.stored is None or "address" in row.given]
        results: list[GeocodeResult | None] = [None] * len(rows)
        if wanted:
            geocoder = load_geocoder(self.conn, self.region)
            found = geocoder.geocode_many([rows[i].effective("address") for i in wanted])
            for i, result in zip(wanted, found, strict=True):
                results[i] = result
        return results
