"""Load squad stations (中队驻地): the station point, address, phone and officers of each squad, merged by code.

A row is matched to its squad by code (中队编号) or, without one, by the name of a known squad;
a row with neither is rejected.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from etl.jobs._features import duplicates, feature_rows, merge_features, read_features, resolve_squad_codes
from etl.jobs._job_run import run_file_job
from etl.jobs.registry import job
from etl.lookup import squad_codes
from etl.runs import Run, RunReport
from geo.models import Squad
from geo.region import get_region

JOB = job("stations")
OPTIONAL = {"station_address": "address", "phone": "phone", "officers": "officers"}  # column → mapped field


def _officers(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 0 else None


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
) -> RunReport:
    """Load squad station points from ``path`` (CSV/XLSX with lon/lat, or any point file) as one ETL run."""
    region = get_region()

    def body(conn: Connection, run: Run) -> None:
        features = read_features(conn, run, Path(path), JOB.kind, "point", region, crs=crs, mapping=mapping)
        known = squad_codes(conn)
        names_by_code = {code: name for name, code in known.items() if name.endswith("中队")}
        codes = resolve_squad_codes(features, run, known)
        mask, reasons = duplicates(features, codes, "squad code")
        features.reject(run, mask, reasons)
        codes = codes[~mask]
        columns = {
            "code": codes,
            "name": [
                name or names_by_code.get(code, code) for name, code in zip(features.text("name"), codes, strict=True)
            ],
            "station_address": [address or None for address in features.text("address")],
            "phone": [phone or None for phone in features.text("phone")],
            "officers": [_officers(officers) for officers in features.text("officers")],
        }
        for column, field in OPTIONAL.items():  # a file without e.g. 在编人数 leaves the stored value alone
            if field not in features.frame.columns:
                del columns[column]
        rows = feature_rows(features, run, columns, geometry="station")
        merge_features(conn, run, Squad.__table__, rows, JOB.merge_key)

    return run_file_job(engine, JOB, path, body, source_crs=crs, mapping=mapping, force=force)
