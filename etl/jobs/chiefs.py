"""Load the street-chief roster (街路长, XLSX/CSV) merged by code, and link each chief to the segments of their streets.

负责街路 lists street names joined by "、"; each is matched to street segments by name or
alias. A name that matches no segment is reported as a warning naming the chief and the
street (the chief is still loaded); a row without code or name is rejected.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._job_run import run_file_job
from etl.jobs.registry import job
from etl.lookup import split_names, squad_codes
from etl.mapping import load_mapping
from etl.progress import track
from etl.readers.input_files import source_files
from etl.readers.points import TABLE_SUFFIXES
from etl.readers.tabular import read_table
from etl.runs import Run, RunReport
from etl.upsert import merge
from geo.models import StreetChief

JOB = job("chiefs")
MAX_UNMATCHED_WARNINGS = 30


def _street_index(conn: Connection) -> dict[str, list[tuple[int, str | None]]]:
    """Street name or alias → (segment id, squad code of the segment)."""
    index: dict[str, list[tuple[int, str | None]]] = {}
    rows = conn.execute(text("SELECT id, name, aliases, squad_code FROM street_segments ORDER BY id"))
    for segment_id, name, aliases, squad in rows:
        for key in {name, *(aliases or [])}:
            if key:
                index.setdefault(key, []).append((segment_id, squad))
    return index


def _segments_of(street: list[tuple[int, str | None]], squad: str | None) -> list[int]:
    """A chief's part of a street: the segments in the chief's squad when the street crosses several
    squads (a road such as 武王线 has a chief per squad); every segment when none lies in it."""
    own = [segment for segment, segment_squad in street if squad and segment_squad == squad]
    return own or [segment for segment, _ in street]


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
) -> RunReport:
    """Load street chiefs from ``path`` (XLSX/CSV file or a folder of them) as one ETL run."""
    column_mapping = load_mapping(JOB.kind, mapping)

    def body(conn: Connection, run: Run) -> None:
        known = squad_codes(conn)
        streets = _street_index(conn)
        chiefs: dict[str, dict] = {}
        wanted_streets: dict[str, list[str]] = {}
        with source_files(Path(path), TABLE_SUFFIXES) as files:
            for source in track(files, "reading chiefs"):
                table = read_table(source.path, encoding=source.encoding, name=source.name)
                frame = column_mapping.apply(table.frame, source.name)
                originals = table.frame.to_dict("records")
                for i, row in enumerate(frame.to_dict("records")):
                    run.read += 1
                    number = table.row_number(i)
                    if i in table.problems:  # e.g. a cell longer than the limit
                        run.reject(number, originals[i], table.problems[i], source.name)
                        continue
                    code, name = str(row.get("code", "")).strip(), str(row.get("name", "")).strip()
                    if not code or not name:
                        run.reject(
                            number, originals[i], "street chief needs a code (街路长编号) and a name", source.name
                        )
                        continue
                    if code in chiefs:
                        run.reject(
                            number,
                            originals[i],
                            f"duplicate chief code {code!r}: already at {chiefs[code]['_at']}",
                            source.name,
                        )
                        continue
                    squad = str(row.get("squad", "")).strip()
                    if squad and squad not in known:
                        run.warn(f"{source.name} row {number}: chief {code} names an unknown squad {squad!r}")
                    chiefs[code] = dict(
                        code=code,
                        name=name,
                        phone=str(row.get("phone", "")).strip() or None,
                        squad_code=known.get(squad),
                        role=str(row.get("role", "")).strip() or None,
                        active=True,
                        run_id=run.id,
                        _at=f"{source.name} row {number}",
                    )
                    wanted_streets[code] = split_names(str(row.get("streets", "")))
                    run.loaded += 1
        rows = [{k: v for k, v in chief.items() if k != "_at"} for chief in chiefs.values()]
        merged = merge(conn, StreetChief.__table__, rows, JOB.merge_key)
        run.stats.update(merged.counts())

        ids = dict(
            conn.execute(text("SELECT code, id FROM street_chiefs WHERE code = ANY(:c)"), {"c": list(chiefs)}).all()
        )
        links: dict[tuple[int, int], str] = {}
        unmatched: list[str] = []
        for code, names in wanted_streets.items():
            missing = [n for n in names if n not in streets]
            if missing:
                unmatched.append(f"{chiefs[code]['_at']}: chief {code} streets not found: {', '.join(missing)}")
            for street in names:
                for segment in _segments_of(streets.get(street, []), chiefs[code].get("squad_code")):
                    links.setdefault((ids[code], segment), street)
        for message in unmatched[:MAX_UNMATCHED_WARNINGS]:
            run.warn(message)
        if len(unmatched) > MAX_UNMATCHED_WARNINGS:
            run.warn(f"… and {len(unmatched) - MAX_UNMATCHED_WARNINGS} more chiefs with unmatched streets")
        run.stats["unmatched_streets"] = sum(len([n for n in v if n not in streets]) for v in wanted_streets.values())
        run.stats["chief_segments"] = _sync_links(conn, list(ids.values()), {(c, s, n) for (c, s), n in links.items()})

    return run_file_job(engine, JOB, path, body, source_crs=None, mapping=mapping, force=force)


def _sync_links(conn: Connection, chief_ids: list[int], links: set[tuple[int, int, str]]) -> dict[str, int]:
    existing = set(
        conn.execute(
            text("SELECT chief_id, segment_id, street_name FROM chief_segments WHERE chief_id = ANY(:ids)"),
            {"ids": chief_ids},
        ).all()
    )
    stale = existing - links
    fresh = links - existing
    if stale:
        conn.execute(
            text("DELETE FROM chief_segments WHERE chief_id = :c AND segment_id = :s"),
            [{"c": c, "s": s} for c, s, _ in stale],
        )
    if fresh:
        conn.execute(
            text("INSERT INTO chief_segments (chief_id, segment_id, street_name) VALUES (:c, :s, :n)"),
            [{"c": c, "s": s, "n": n} for c, s, n in fresh],
        )
    return {"links": len(links), "added": len(fresh), "removed": len(stale)}
