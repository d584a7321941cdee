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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
import shapely.prepared
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._case_checks import (
    FLAG_LABELS,
    MISMATCH_M,
    STAGES,
    WGS84_AS_GCJ02_CONVERTED_M,
    WGS84_AS_GCJ02_RAW_M,
    TimeBounds,
    calendar_warning,
    check_stages,
    durations_min,
    foreign_file_problem,
    parse_coordinate,
    parse_stages,
)
from etl.mapping import Mapping, load_mapping
from etl.readers.sources import SourceFile, source_config, source_files
from etl.readers.tabular import CSV_SUFFIXES, EXCEL_SUFFIXES, read_table
from etl.runs import Run, RunReport, run_job
from etl.upsert import merge, stored_rows
from geo.case_number import normalize_case_number
from geo.crs import normalize_crs, to_wgs84
from geo.errors import InputError
from geo.geocode import GeocodeResult, load_geocoder
from geo.geocode.match import distance_m
from geo.models import GEOCODE_LEVELS, Case
from geo.region import Region, get_region
from geo.time_limits import calendar_gaps, case_time_limit, due_at

TEXT_FIELDS = (
    "category",
    "domain",
    "procedure_type",
    "source",
    "status",
    "description",
    "address",
    "reported_squad",
    "party_name",
    "party_phone",
    "party_id_number",
    "complainant_name",
    "complainant_phone",
)
GEOCODE_COLUMNS = ("geocode_level", "geocode_score", "geocode_matched", "township_code", "village_code", "segment_id")
STORED_COLUMNS = (*TEXT_FIELDS, *STAGES, *GEOCODE_COLUMNS, "geom", "source_crs", "flags", "attrs")
ADDRESS_DEPENDENT_FLAGS = ("coord_address_mismatch", "coord_wgs84_as_gcj02")


@dataclass
class CaseRow:
    """One row read from an export, with where it came from and the stored case it updates."""

    file: str
    file_index: int
    row_number: int
    values: dict[str, str]
    raw: dict[str, str]
    present: frozenset[str] = frozenset()  # model fields the file has a column for
    number: str = ""
    given: dict[str, Any] = field(default_factory=dict)  # fields this row sets (None: cleared)
    stored: dict[str, Any] | None = None  # the case as stored before this run
    record: dict[str, Any] = field(default_factory=dict)  # what is written
    flags: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def flag(self, flag: str, note: str) -> None:
        """Add a flag (once) and a note saying why."""
        if flag not in self.flags:
            self.flags.append(flag)
        self.notes.setdefault(flag, []).append(note)

    def effective(self, name: str) -> Any:
        """The value of ``name`` after this row: given here, else as stored, else None."""
        if name in self.given:
            return self.given[name]
        return (self.stored or {}).get(name)

    def keep_stored_flags(self, prefix: str, exclude: tuple[str, ...] = ()) -> None:
        """Keep the stored flags (and notes) starting with ``prefix``: nothing in this row re-checks them."""
        stored = self.stored or {}
        notes = (stored.get("attrs") or {}).get("flag_notes")
        for flag in stored.get("flags") or []:
            if flag.startswith(prefix) and flag not in exclude and flag not in self.flags:
                self.flags.append(flag)
                self.notes[flag] = list(notes.get(flag, [])) if isinstance(notes, dict) else []


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
    coord_crs = normalize_crs(crs or config.get("crs") or "gcj02")
    region = get_region()
    columns = load_mapping("cases", mapping)

    def body(conn: Connection, run: Run) -> None:
        CaseLoader(conn, run, region, coord_crs, config, columns, accept_foreign=accept_foreign).load(path)

    return run_job(engine, "cases", path, body, source_crs=coord_crs, mapping=columns.fingerprint(), force=force)


class CaseLoader:
    """The work of one case run: read, validate, geocode, place, assign squads, merge."""

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
        rows = self.identify(rows)
        stored = stored_rows(self.conn, Case.__table__, "case_number", [r.number for r in rows], STORED_COLUMNS)
        for row in rows:
            row.stored = stored.get(row.number)
        rows = self.deduplicate(self.validate(rows))
        lap("validate")
        results = self.geocode(rows)
        lap("geocode")
        self.place(rows, results)
        self.refuse_foreign(rows, results)
        self.assign_squads(rows, results)
        lap("coordinates_and_squads")
        rows = self.records(rows, results)
        merged = merge(
            self.conn,
            Case.__table__,
            [row.record for row in rows],
            ["case_number"],
            ignore=("run_id", "attrs"),
            history_run=self.run.id,
        )
        self.run.loaded += len(rows)
        lap("merge")
        self.report(rows, results, merged.inserted, merged.updated, merged.fields)
        self.run.stats["seconds"] = seconds

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
            row.given = {f: v for f, v in given.items() if f in TEXT_FIELDS or f in ("lon", "lat")}
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
            best = max(group, key=_completeness)
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

    def place(self, rows: list[CaseRow], results: list[GeocodeResult | None]) -> None:
        """Choose each case's point: the phone coordinates when usable, else the geocoded address; flag conflicts.

        A row that gives neither coordinates nor an address keeps the stored point and its coordinate flags.
        """
        outline = self.region.outline
        x0, y0, x1, y1 = outline.bounds
        near = shapely.prepared.prep(outline.buffer(0.005))
        raw: list[tuple[float, float] | None] = []
        for row in rows:
            parsed = None
            if "lon" in row.given or "lat" in row.given:
                row.attrs["coordinates_given"] = True
                parsed = parse_coordinate(row.given.get("lon"), row.given.get("lat"))
            if parsed == "invalid":
                row.flag("coord_invalid", f"坐标无法解析：{row.given.get('lon')}, {row.given.get('lat')}")
                parsed = None
            if parsed is not None:
                x, y = parsed
                inside_box = x0 - 0.5 <= x <= x1 + 0.5 and y0 - 0.5 <= y <= y1 + 0.5
                if not inside_box and x0 - 0.5 <= y <= x1 + 0.5 and y0 - 0.5 <= x <= y1 + 0.5:
                    row.flag("coord_swapped", "经度、纬度两列颠倒，已对调")
                    parsed = (y, x)
                row.attrs["raw_coordinate"] = [x, y]
            raw.append(parsed)
        have = [i for i, p in enumerate(raw) if p is not None]
        if have:
            xs = np.array([raw[i][0] for i in have])
            ys = np.array([raw[i][1] for i in have])
            lon, lat = to_wgs84(xs, ys, self.crs)
        wgs_suspects = checked = 0
        for k, i in enumerate(have):
            row, result = rows[i], results[i]
            point = (float(lon[k]), float(lat[k]))
            as_wgs = raw[i]
            if not near.contains(shapely.Point(point)):
                row.flag("coord_outside_county", f"坐标在{self.region.name}外：{point[0]:.5f}, {point[1]:.5f}")
                continue
            row.attrs["coordinates_inside"] = True
            if result is not None and result.point is not None and result.level in MISMATCH_M:
                checked += 1
                gap = distance_m(point, result.point)
                if self.crs == "gcj02" and result.level in {"门牌", "交叉口", "小区或地点"}:
                    gap_raw = distance_m(as_wgs, result.point)
                    if gap_raw <= WGS84_AS_GCJ02_RAW_M and gap >= WGS84_AS_GCJ02_CONVERTED_M:
                        wgs_suspects += 1
                        row.flag(
                            "coord_wgs84_as_gcj02", f"坐标按WGS-84处理距地址{gap_raw:.0f}米，按GCJ-02处理{gap:.0f}米"
                        )
                        point, gap = as_wgs, gap_raw
                row.attrs["address_distance_m"] = round(gap, 1)
                if gap > MISMATCH_M[result.level]:
                    row.flag("coord_address_mismatch", f"坐标与地址（{result.level}）相距{gap:.0f}米")
            self._set_point(row, point, "coordinates", self.crs)
        if checked >= 5 and wgs_suspects >= checked / 2:
            self.run.warn(
                f"{wgs_suspects} of {checked} cases have coordinates that match their address as WGS-84, not as "
                f"{self.crs}: load again with --crs wgs84 if the export is WGS-84"
            )
        for row, result in zip(rows, results, strict=True):
            if "point" in row.attrs or "geom" in row.record:
                continue
            self._fallback_point(row, result)

    def _set_point(self, row: CaseRow, point: tuple[float, float] | None, source: str | None, crs: str | None) -> None:
        row.record["geom"] = f"SRID=4326;POINT({point[0]:.8f} {point[1]:.8f})" if point else None
        row.record["source_crs"] = crs if point else None
        row.attrs["point_source"] = source if point else None
        if point:
            row.attrs["point"] = point

    def _fallback_point(self, row: CaseRow, result: GeocodeResult | None) -> None:
        """The point of a row without usable coordinates of its own: stored phone point, else the address."""
        stored = row.stored or {}
        stored_point = _point_of(stored.get("geom"))
        stored_source = (stored.get("attrs") or {}).get("point_source")
        coordinates_given = row.attrs.get("coordinates_given", False)
        if not coordinates_given:
            row.keep_stored_flags("coord_", exclude=ADDRESS_DEPENDENT_FLAGS if result is not None else ())
        if not coordinates_given and stored_point and stored_source == "coordinates":
            row.attrs["point"] = stored_point  # the phone point stays; only its distance to a new address is checked
            if result is not None and result.point is not None and result.level in MISMATCH_M:
                gap = distance_m(stored_point, result.point)
                row.attrs["address_distance_m"] = round(gap, 1)
                if gap > MISMATCH_M[result.level]:
                    row.flag("coord_address_mismatch", f"坐标与地址（{result.level}）相距{gap:.0f}米")
        elif result is not None:
            self._set_point(row, result.point, "address", None)
        elif stored_point:
            row.attrs["point"] = stored_point

    def refuse_foreign(self, rows: list[CaseRow], results: list[GeocodeResult | None]) -> None:
        """Stop when the file's located rows mostly lie outside the region or match nothing (unless accepted)."""
        located = foreign = 0
        for row, result in zip(rows, results, strict=True):
            address = result is not None and bool((row.given.get("address") or "").strip())
            coordinates = "raw_coordinate" in row.attrs
            if not (address or coordinates):
                continue
            located += 1
            inside = row.attrs.get("coordinates_inside") or (address and result.level != "未匹配")
            foreign += not inside
        problem = foreign_file_problem(foreign, located, self.region)
        if problem is None:
            return
        if not self.accept_foreign:
            raise InputError(
                f"{self.run.source_path}: {problem}; nothing was loaded (--accept-foreign loads it anyway)"
            )
        self.run.warn(f"{problem}; loaded because --accept-foreign was given")

    def assign_squads(self, rows: list[CaseRow], results: list[GeocodeResult | None]) -> None:
        """Squad from point-in-jurisdiction (current version); flag a different 所属中队 in the export."""
        squads = self.conn.execute(text("SELECT code, name, short_name, township_codes FROM squads")).all()
        names: dict[str, str] = {}
        by_township: dict[str, str] = {}
        for squad in squads:
            for name in (squad.code, squad.name, squad.short_name, squad.name.removesuffix("中队")):
                if name:
                    names[name.strip()] = squad.code
            for township in squad.township_codes or []:
                by_township.setdefault(township, squad.code)
        current = self.conn.execute(
            text("SELECT squad_code, ST_AsBinary(geom) AS wkb FROM jurisdictions WHERE is_current")
        ).all()
        codes = [j.squad_code for j in current]
        tree = shapely.STRtree(shapely.from_wkb([bytes(j.wkb) for j in current])) if current else None
        located = [i for i, r in enumerate(rows) if "point" in r.attrs]
        hits: dict[int, str] = {}
        if tree is not None and located:
            points = shapely.points([rows[i].attrs["point"] for i in located])
            found = tree.query(points, predicate="within")
            for point_index, polygon_index in zip(*found, strict=True):
                hits.setdefault(located[point_index], codes[polygon_index])
        for i, (row, result) in enumerate(zip(rows, results, strict=True)):
            reported = (row.effective("reported_squad") or "").strip()
            reported_code = names.get(reported) if reported else None
            if reported and squads and reported_code is None:
                row.flag("squad_unknown", f"所属中队“{reported}”不是已知中队")
            township = result.township_code if result is not None else (row.stored or {}).get("township_code")
            code, source = hits.get(i), "jurisdiction"
            if code is None and township in by_township:
                code, source = by_township[township], "township"
            if code is None and reported_code:
                code, source = reported_code, "export"
            if code and reported_code and code != reported_code:
                row.flag("squad_mismatch", f"导出所属中队为{reported}，辖区为{code}")
            row.record["squad_code"] = code
            row.attrs["squad_source"] = source if code else None

    def records(self, rows: list[CaseRow], results: list[GeocodeResult | None]) -> list[CaseRow]:
        """Build what each row writes; a row whose values cannot be stored (a due time past 9999) is a reject."""
        kept: list[CaseRow] = []
        for row, result in zip(rows, results, strict=True):
            try:
                row.record = self._record(row, result)
            except (OverflowError, ValueError) as exc:
                self.run.reject(row.row_number, row.raw, f"case {row.number} cannot be stored: {exc}", row.file)
                continue
            kept.append(row)
        return kept

    def _record(self, row: CaseRow, result: GeocodeResult | None) -> dict[str, Any]:
        """The columns this row writes: what it gives, and what is derived from the case after it."""
        record: dict[str, Any] = {"case_number": row.number}
        record.update({f: v for f, v in row.given.items() if f in TEXT_FIELDS or f in STAGES})
        record.update(row.record)
        limit = case_time_limit({k: row.effective(k) for k in ("procedure_type", "category")}, self.region)
        record["due_at"] = due_at(row.effective("received_at"), limit, self.region)
        record["time_limit"] = limit.label()
        if result is not None:
            record.update(
                geocode_level=result.level,
                geocode_score=result.score if result.level != "未匹配" else None,
                geocode_matched="、".join(result.matched) or None,
                township_code=result.township_code,
                village_code=result.village_code,
                segment_id=result.segment_id,
            )
        order = list(FLAG_LABELS)
        record["flags"] = sorted(row.flags, key=lambda f: order.index(f) if f in order else len(order))
        record["run_id"] = self.run.id
        attrs = dict((row.stored or {}).get("attrs") or {})
        if "geom" in row.record:  # a new point: what was said about the old one no longer holds
            for stale in ("raw_coordinate", "address_distance_m"):
                attrs.pop(stale, None)
        attrs.update({k: v for k, v in row.attrs.items() if k not in _TRANSIENT_ATTRS})
        if result is not None:
            attrs["geocode_reason"] = result.reason
        attrs.update(
            durations_min=durations_min({s: row.effective(s) for s in STAGES}),
            flag_notes={f: notes for f, notes in row.notes.items() if notes and (f in row.flags or f == "time")},
            source_file=row.file,
            source_row=row.row_number,
        )
        record["attrs"] = attrs
        return record

    def report(
        self,
        rows: list[CaseRow],
        results: list[GeocodeResult | None],
        inserted: int,
        updated: int,
        fields: dict[str, int],
    ) -> None:
        """Geocode levels (of the addresses geocoded), flags, inserted / updated cases and changed fields."""
        levels = Counter(r.level for r in results if r is not None)
        total = max(sum(levels.values()), 1)
        self.run.stats["geocode_levels"] = {level: levels.get(level, 0) for level in GEOCODE_LEVELS}
        self.run.stats["geocode_shares"] = {level: round(levels.get(level, 0) / total, 4) for level in GEOCODE_LEVELS}
        flags = Counter(flag for row in rows for flag in row.flags)
        self.run.stats["flags"] = {FLAG_LABELS.get(f, f): n for f, n in flags.most_common()}
        self.run.stats["inserted"], self.run.stats["updated"] = inserted, updated
        self.run.stats["changed_fields"] = dict(sorted(fields.items(), key=lambda item: (-item[1], item[0])))
        self.run.stats["point_sources"] = dict(Counter(r.record["attrs"].get("point_source") or "none" for r in rows))
        cases = pd.DataFrame(
            [{k: r.effective(k) for k in ("received_at", "procedure_type", "category")} for r in rows],
            columns=["received_at", "procedure_type", "category"],
        )
        gaps = calendar_gaps(cases, self.region, pd.Series([r.record["due_at"] for r in rows], dtype=object))
        if gaps:  # due times counted in a year the holiday calendar does not list
            self.run.stats["calendar_uncovered"] = {str(year): count for year, count in gaps.items()}
            self.run.warn(calendar_warning(gaps, self.region))


_TRANSIENT_ATTRS = ("point", "coordinates_given", "coordinates_inside")


def _point_of(geom: Any) -> tuple[float, float] | None:
    """(lon, lat) of a stored point geometry (``WKBElement``), or None."""
    if geom is None:
        return None
    point = shapely.from_wkb(bytes(geom.data))
    return (point.x, point.y)


def _completeness(row: CaseRow) -> tuple[int, int, int, int]:
    stages = sum(row.effective(s) is not None for s in STAGES)
    filled = sum(1 for v in row.values.values() if v)
    return stages, row.file_index, filled, row.row_number
