"""Load the duty roster (排班, XLSX/CSV: 工号/日期/开始/结束, optional 中队): each officer's duty periods per day.

On a day the roster has rows for an officer, those rows (not the config shifts) say when the
officer is on duty (:mod:`geo.duty`). A file replaces the periods of every (officer, day) it
lists, so a corrected roster reloads cleanly; an end at or before the start runs past midnight
(a night shift). A row without a known chief code, or with a date or time that cannot be read,
is rejected with its reason.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._case_checks import parse_time
from etl.jobs._job_run import run_file_job
from etl.jobs.registry import job
from etl.lookup import squad_codes
from etl.mapping import load_mapping
from etl.readers.input_files import source_files
from etl.readers.points import TABLE_SUFFIXES
from etl.readers.table_rows import table_rows
from etl.runs import Run, RunReport
from etl.upsert import merge
from geo.models import DutyRoster
from geo.region import Region, get_region

JOB = job("roster")


def duty_period(row: dict[str, Any], region: Region) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The local day and the aware start and end of one roster row (``date``, ``start``, ``end`` as text).

    Raises
    ------
    ValueError
        With the reason, when a cell cannot be read.
    """
    raw_date = str(row.get("date") or "").strip()
    try:
        when = parse_time(raw_date, region.tz)
    except ValueError:
        when = None
    if when is None:
        raise ValueError(f"日期 {raw_date!r} is not a date")
    day = when.date()
    times = []
    for name, label in (("start", "开始"), ("end", "结束")):
        cell = str(row.get(name) or "").strip()
        clock = cell.split(" ")[-1]  # an Excel time cell may come as '1899-12-30 08:00:00'
        try:
            at = parse_time(f"{day:%Y-%m-%d} {clock}", region.tz) if clock else None
        except ValueError:
            at = None
        if at is None:
            raise ValueError(f"{label} {cell!r} is not a time of day (08:00)")
        times.append(at)
    start, end = times
    if end <= start:
        end += dt.timedelta(days=1)  # a night shift ends the next day
    return day, start, end


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
) -> RunReport:
    """Load the duty roster from ``path`` (XLSX/CSV file or a folder of them) as one ETL run."""
    column_mapping = load_mapping(JOB.kind, mapping)
    region = get_region()

    def body(conn: Connection, run: Run) -> None:
        chiefs = dict(conn.execute(text("SELECT code, squad_code FROM street_chiefs")).all())
        known_squads = squad_codes(conn)
        periods: dict[tuple[str, dt.date, dt.datetime], tuple[dt.datetime, str | None]] = {}
        with source_files(Path(path), TABLE_SUFFIXES) as files:
            for item in table_rows(files, column_mapping):
                run.read += 1
                row, reason = item.row, item.problem
                code = str(row.get("code") or "").strip()
                if reason is None and code not in chiefs:
                    reason = f"工号 {code!r} is not a known street chief code (load chiefs first)"
                if reason is None:
                    try:
                        day, start, end = duty_period(row, region)
                    except ValueError as exc:
                        reason = str(exc)
                if reason is None and (code, day, start) in periods:
                    reason = f"duplicate duty period: {code} {start:%Y-%m-%d %H:%M} is already in this roster"
                if reason is not None:
                    run.reject(item.number, item.original, reason, item.source)
                    continue
                squad = str(row.get("squad") or "").strip()
                periods[(code, day, start)] = (end, known_squads.get(squad) or chiefs[code])
                run.loaded += 1
        rows = [
            {"chief_code": c, "duty_date": d, "starts_at": s, "ends_at": e, "squad_code": q, "run_id": run.id}
            for (c, d, s), (e, q) in periods.items()
        ]
        merged = merge(conn, DutyRoster.__table__, rows, JOB.merge_key)
        days = sorted({(code, day) for code, day, _ in periods})
        removed = conn.execute(  # the file replaces the periods of the days it lists
            text(
                "DELETE FROM duty_roster r WHERE (r.chief_code, r.duty_date) IN "
                "(SELECT * FROM unnest(CAST(:c AS text[]), CAST(:d AS date[]))) "
                "AND (r.chief_code, r.starts_at) NOT IN "
                "(SELECT * FROM unnest(CAST(:kc AS text[]), CAST(:ks AS timestamptz[])))"
            ),
            {
                "c": [c for c, _ in days],
                "d": [d for _, d in days],
                "kc": [c for c, _, _ in periods],
                "ks": [s for _, _, s in periods],
            },
        ).rowcount
        run.stats.update(merged.counts())
        run.stats.update({"officer_days": len(days), "periods_removed": int(removed or 0)})

    return run_file_job(engine, JOB, path, body, source_crs=None, mapping=mapping, force=force)
