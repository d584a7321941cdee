"""Load the provincial case-system export: geocode, check coordinates, squad and stage times, upsert by case number.

``python -m etl load cases PATH`` (PATH a CSV/XLSX file, a zip or a folder of them). Every row
read is either upserted into ``cases`` or rejected with its reason; an address that matches
nothing still loads (no point, level 未匹配) and shows up in ``python -m etl review``.
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
import shapely
import shapely.prepared
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._case_checks import (
    FLAG_LABELS,
    MISMATCH_M,
    WGS84_AS_GCJ02_CONVERTED_M,
    WGS84_AS_GCJ02_RAW_M,
    calendar_gaps,
    calendar_warning,
    case_time_limit,
    check_stages,
    due_at,
    durations_min,
    parse_coordinate,
)
from etl.mapping import load_mapping
from etl.readers.sources import SourceFile, source_config, source_files
from etl.readers.tabular import CSV_SUFFIXES, EXCEL_SUFFIXES, read_table
from etl.runs import Run, RunReport, run_job
from geo.crs import normalize_crs, to_wgs84
from geo.geocode import GeocodeResult, load_geocoder
from geo.geocode.match import distance_m
from geo.models import GEOCODE_LEVELS
from geo.region import Region, get_region

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


@dataclass
class CaseRow:
    """One row read from an export, with where it came from."""

    file: str
    file_index: int
    row_number: int
    values: dict[str, str]
    raw: dict[str, str]
    record: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)

    def flag(self, flag: str, note: str) -> None:
        """Add a flag (once) and a note saying why."""
        if flag not in self.flags:
            self.flags.append(flag)
        self.notes.append(note)


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
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
        A column-mapping file overriding the default headers.
    force
        Load even when identical input was loaded before.
    """
    path = Path(path)
    config = source_config(path)
    coord_crs = normalize_crs(crs or config.get("crs") or "gcj02")
    region = get_region()

    def body(conn: Connection, run: Run) -> None:
        CaseLoader(conn, run, region, coord_crs, config, mapping).load(path)

    return run_job(engine, "cases", path, body, source_crs=coord_crs, force=force)


class CaseLoader:
    """The work of one case run: read, validate, geocode, place, assign squads, upsert."""

    def __init__(
        self,
        conn: Connection,
        run: Run,
        region: Region,
        crs: str,
        config: dict[str, Any],
        mapping: Path | None,
    ) -> None:
        self.conn, self.run, self.region, self.crs = conn, run, region, crs
        self.tz = ZoneInfo(config["timezone"]) if config.get("timezone") else region.tz
        self.mapping = load_mapping("cases", mapping)
        self.now = dt.datetime.now(dt.UTC)

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
        rows = self.deduplicate(self.validate(rows))
        lap("validate")
        geocoder = load_geocoder(self.conn, self.region)
        lap("gazetteer")
        results = geocoder.geocode_many([r.values.get("address") for r in rows])
        lap("geocode")
        self.place(rows, results)
        self.assign_squads(rows, results)
        lap("coordinates_and_squads")
        inserted, updated = self.upsert(rows, results)
        self.run.loaded += len(rows)
        lap("upsert")
        self.report(rows, results, inserted, updated)
        self.run.stats["seconds"] = seconds

    def read(self, files: list[SourceFile]) -> list[CaseRow]:
        """Every data row of every table file, mapped to model fields."""
        rows: list[CaseRow] = []
        for index, source in enumerate(files):
            table = read_table(source.path)
            shown = source.name
            mapped = self.mapping.apply(table.frame, shown)
            raws = table.frame.to_dict("records")
            for position, values in enumerate(mapped.to_dict("records")):
                rows.append(
                    CaseRow(
                        shown, index, table.row_number(position), {k: str(v) for k, v in values.items()}, raws[position]
                    )
                )
        return rows

    def validate(self, rows: list[CaseRow]) -> list[CaseRow]:
        """Reject rows that cannot be cases; parse times and flag what is wrong with the others."""
        kept: list[CaseRow] = []
        for row in rows:
            number = (row.values.get("case_number") or "").strip()
            if not number:
                self.run.reject(row.row_number, row.raw, "case number (案件编号) is empty", row.file)
                continue
            if len(number) > 64:
                self.run.reject(
                    row.row_number, row.raw, "case number (案件编号) is longer than 64 characters", row.file
                )
                continue
            stages = check_stages(row.values, self.tz, self.now)
            if stages.reject:
                self.run.reject(row.row_number, row.raw, stages.reject, row.file)
                continue
            row.record = {"case_number": number, **stages.times}
            for flag in stages.flags:
                row.flags.append(flag)
            row.notes += stages.notes
            kept.append(row)
        return kept

    def deduplicate(self, rows: list[CaseRow]) -> list[CaseRow]:
        """One row per case number: the one with most stage times, then the later one; the others are rejects."""
        groups: dict[str, list[CaseRow]] = {}
        for row in rows:
            groups.setdefault(row.record["case_number"], []).append(row)
        kept: list[CaseRow] = []
        for group in groups.values():
            best = max(group, key=_completeness)
            kept.append(best)
            for other in group:
                if other is not best:
                    self.run.reject(
                        other.row_number,
                        other.raw,
                        f"duplicate case number {best.record['case_number']} in this load; kept the more complete "
                        f"or later row {best.file} row {best.row_number}",
                        other.file,
                    )
        return kept

    def place(self, rows: list[CaseRow], results: list[GeocodeResult]) -> None:
        """Choose each case's point: the phone coordinates when usable, else the geocoded address; flag conflicts."""
        outline = self.region.outline
        x0, y0, x1, y1 = outline.bounds
        near = shapely.prepared.prep(outline.buffer(0.005))
        raw: list[tuple[float, float] | None] = []
        for row in rows:
            parsed = parse_coordinate(row.values.get("lon"), row.values.get("lat"))
            if parsed == "invalid":
                row.flag("coord_invalid", f"坐标无法解析：{row.values.get('lon')}, {row.values.get('lat')}")
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
            if result.point is not None and result.level in MISMATCH_M:
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
            row.record["geom"] = f"SRID=4326;POINT({point[0]:.8f} {point[1]:.8f})"
            row.record["source_crs"] = self.crs
            row.attrs["point_source"] = "coordinates"
            row.attrs["point"] = point
        if checked >= 5 and wgs_suspects >= checked / 2:
            self.run.warn(
                f"{wgs_suspects} of {checked} cases have coordinates that match their address as WGS-84, not as "
                f"{self.crs}: load again with --crs wgs84 if the export is WGS-84"
            )
        for row, result in zip(rows, results, strict=True):
            if "geom" not in row.record and result.point is not None:
                row.record["geom"] = f"SRID=4326;POINT({result.lon:.8f} {result.lat:.8f})"
                row.attrs["point_source"] = "address"
                row.attrs["point"] = result.point

    def assign_squads(self, rows: list[CaseRow], results: list[GeocodeResult]) -> None:
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
            reported = (row.values.get("reported_squad") or "").strip()
            reported_code = names.get(reported) if reported else None
            if reported and squads and reported_code is None:
                row.flag("squad_unknown", f"所属中队“{reported}”不是已知中队")
            code, source = hits.get(i), "jurisdiction"
            if code is None and result.township_code in by_township:
                code, source = by_township[result.township_code], "township"
            if code is None and reported_code:
                code, source = reported_code, "export"
            if code and reported_code and code != reported_code:
                row.flag("squad_mismatch", f"导出所属中队为{reported}，辖区为{code}")
            row.record["squad_code"] = code
            row.attrs["squad_source"] = source if code else None

    def upsert(self, rows: list[CaseRow], results: list[GeocodeResult]) -> tuple[int, int]:
        """Insert new cases and update re-exported ones (times never erased by an empty cell).

        The rows are copied into a temporary table (COPY) and merged with one INSERT … ON CONFLICT.
        """
        records = [self._record(row, result) for row, result in zip(rows, results, strict=True)]
        if not records:
            return 0, 0
        columns = list(records[0])
        listed = ", ".join(columns)
        self.conn.execute(
            text(f"CREATE TEMP TABLE case_load ON COMMIT DROP AS SELECT {listed} FROM cases WITH NO DATA")
        )
        cursor = self.conn.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY case_load ({listed}) FROM STDIN") as copy:
            for record in records:
                copy.write_row([Jsonb(record[c]) if c == "attrs" else record[c] for c in columns])
        updates = ", ".join(
            f"{c} = COALESCE(EXCLUDED.{c}, cases.{c})" if c in _TIME_COLUMNS else f"{c} = EXCLUDED.{c}"
            for c in columns
            if c != "case_number"
        )
        flags = self.conn.execute(
            text(
                f"INSERT INTO cases ({listed}) SELECT {listed} FROM case_load "
                f"ON CONFLICT (case_number) DO UPDATE SET {updates}, updated_at = now() RETURNING (xmax = 0)"
            )
        ).scalars()
        inserted = sum(1 for new in flags if new)
        self.conn.execute(text("DROP TABLE case_load"))
        return inserted, len(records) - inserted

    def _record(self, row: CaseRow, result: GeocodeResult) -> dict[str, Any]:
        values = row.values
        record = {f: (values.get(f) or None) for f in TEXT_FIELDS}
        record.update(row.record)
        record.setdefault("geom", None)
        record.setdefault("source_crs", None)
        limit = case_time_limit(values, self.region)
        record["due_at"] = due_at(record["received_at"], limit, self.region)
        record["time_limit"] = limit.label()
        record.update(
            geocode_level=result.level,
            geocode_score=result.score if result.level != "未匹配" else None,
            geocode_matched="、".join(result.matched) or None,
            township_code=result.township_code,
            village_code=result.village_code,
            segment_id=result.segment_id,
            flags=row.flags,
            run_id=self.run.id,
        )
        attrs = {k: v for k, v in row.attrs.items() if k != "point"}
        attrs.update(
            geocode_reason=result.reason,
            durations_min=durations_min({s: record.get(s) for s in _TIME_COLUMNS}),
            flag_notes=row.notes,
            source_file=row.file,
            source_row=row.row_number,
        )
        record["attrs"] = attrs
        return record

    def report(self, rows: list[CaseRow], results: list[GeocodeResult], inserted: int, updated: int) -> None:
        """Share of cases at each geocode level, flags, inserted and updated counts on the run."""
        levels = Counter(r.level for r in results)
        total = max(len(results), 1)
        self.run.stats["geocode_levels"] = {level: levels.get(level, 0) for level in GEOCODE_LEVELS}
        self.run.stats["geocode_shares"] = {level: round(levels.get(level, 0) / total, 4) for level in GEOCODE_LEVELS}
        flags = Counter(flag for row in rows for flag in row.flags)
        self.run.stats["flags"] = {FLAG_LABELS.get(f, f): n for f, n in flags.most_common()}
        self.run.stats["inserted"], self.run.stats["updated"] = inserted, updated
        self.run.stats["point_sources"] = dict(Counter(r.attrs.get("point_source") or "none" for r in rows))
        gaps = calendar_gaps([(r.record.get("received_at"), r.values) for r in rows], self.region)
        if gaps:  # due times counted in a year the holiday calendar does not list
            self.run.stats["calendar_uncovered"] = {str(year): count for year, count in gaps.items()}
            self.run.warn(calendar_warning(gaps, self.region))


_TIME_COLUMNS = ("received_at", "dispatched_at", "arrived_at", "closed_at")


def _completeness(row: CaseRow) -> tuple[int, int, int, int]:
    stages = sum(row.record.get(s) is not None for s in _TIME_COLUMNS)
    filled = sum(1 for v in row.values.values() if v)
    return stages, row.file_index, filled, row.row_number
