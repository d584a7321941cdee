"""What a case row writes (given fields, due time, geocode, flags, attrs), and the run's report on them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from etl.jobs._case_checks import FLAG_LABELS, STAGES, calendar_warning, durations_min
from etl.jobs._case_row import TEXT_FIELDS, CaseRow
from etl.runs import Run
from etl.upsert import Merged
from geo.geocode import GeocodeResult
from geo.models import GEOCODE_LEVELS
from geo.region import Region
from geo.time_limits import calendar_gaps, case_time_limit, due_at

TRANSIENT_ATTRS = ("point", "coordinates_given", "coordinates_inside")  # used during the run, not stored
LIMIT_FIELDS = ("procedure_type", "category")


def records(rows: list[CaseRow], results: list[GeocodeResult | None], region: Region, run: Run) -> list[CaseRow]:
    """Build what each row writes; a row whose values cannot be stored (a due time past 9999) is a reject."""
    kept: list[CaseRow] = []
    for row, result in zip(rows, results, strict=True):
        try:
            row.record = record(row, result, region, run.id)
        except (OverflowError, ValueError) as exc:
            run.reject(row.row_number, row.raw, f"case {row.number} cannot be stored: {exc}", row.file)
            continue
        kept.append(row)
    return kept


def record(row: CaseRow, result: GeocodeResult | None, region: Region, run_id: int) -> dict[str, Any]:
    """The columns ``row`` writes: what it gives, and what is derived from the case after it."""
    out: dict[str, Any] = {"case_number": row.number}
    out.update({f: v for f, v in row.given.items() if f in TEXT_FIELDS or f in STAGES})
    out.update(row.record)
    limit = case_time_limit({k: row.effective(k) for k in LIMIT_FIELDS}, region)
    out["due_at"] = due_at(row.effective("received_at"), limit, region)
    out["time_limit"] = limit.label()
    if result is not None:
        out.update(
            geocode_level=result.level,
            geocode_score=result.score if result.level != "未匹配" else None,
            geocode_matched="、".join(result.matched) or None,
            township_code=result.township_code,
            village_code=result.village_code,
            segment_id=result.segment_id,
        )
    order = list(FLAG_LABELS)
    out["flags"] = sorted(row.flags, key=lambda f: order.index(f) if f in order else len(order))
    out["run_id"] = run_id
    out["attrs"] = _attrs(row, result)
    return out


def _attrs(row: CaseRow, result: GeocodeResult | None) -> dict[str, Any]:
    """The stored ``attrs`` updated by this row: point notes, geocode reason, durations, flag notes, source."""
    attrs = dict((row.stored or {}).get("attrs") or {})
    if "geom" in row.record:  # a new point: what was said about the old one no longer holds
        for stale in ("raw_coordinate", "address_distance_m"):
            attrs.pop(stale, None)
    attrs.update({k: v for k, v in row.attrs.items() if k not in TRANSIENT_ATTRS})
    if result is not None:
        attrs["geocode_reason"] = result.reason
    attrs.update(
        durations_min=durations_min({s: row.effective(s) for s in STAGES}),
        flag_notes={f: notes for f, notes in row.notes.items() if notes and (f in row.flags or f == "time")},
        source_file=row.file,
        source_row=row.row_number,
    )
    return attrs


def report(run: Run, rows: list[CaseRow], results: list[GeocodeResult | None], merged: Merged, region: Region) -> None:
    """Geocode levels (of the addresses geocoded), flags, inserted / updated cases, changed fields, calendar gaps."""
    levels = Counter(r.level for r in results if r is not None)
    total = max(sum(levels.values()), 1)
    run.stats["geocode_levels"] = {level: levels.get(level, 0) for level in GEOCODE_LEVELS}
    run.stats["geocode_shares"] = {level: round(levels.get(level, 0) / total, 4) for level in GEOCODE_LEVELS}
    flags = Counter(flag for row in rows for flag in row.flags)
    run.stats["flags"] = {FLAG_LABELS.get(f, f): n for f, n in flags.most_common()}
    run.stats["inserted"], run.stats["updated"] = merged.inserted, merged.updated
    run.stats["changed_fields"] = dict(sorted(merged.fields.items(), key=lambda item: (-item[1], item[0])))
    run.stats["point_sources"] = dict(Counter(r.record["attrs"].get("point_source") or "none" for r in rows))
    columns = ["received_at", *LIMIT_FIELDS]
    cases = pd.DataFrame([{k: r.effective(k) for k in columns} for r in rows], columns=columns)
    gaps = calendar_gaps(cases, region, pd.Series([r.record["due_at"] for r in rows], dtype=object))
    if gaps:  # due times counted in a year the holiday calendar does not list
        run.stats["calendar_uncovered"] = {str(year): count for year, count in gaps.items()}
        run.warn(calendar_warning(gaps, region))
