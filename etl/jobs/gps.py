"""Load GPS tracks (patrol GPX, vehicle CSV/XLSX) and derive again every match when the street network changes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from etl.gps.config import GpsConfig
from etl.gps.match import StreetIndex
from etl.gps.pipeline import load_sources
from etl.gps.rederive import rematch_all
from etl.gps.track_files import GPS_SUFFIXES, gps_sources
from etl.jobs._job_run import run_file_job
from etl.jobs.registry import job
from etl.mapping import load_mapping
from etl.readers.input_files import source_files
from etl.runs import Run, RunReport, run_job
from geo.crs import normalize_crs
from geo.region import get_region

JOB = job("gps")
REMATCH_SOURCE = "gps_fixes × street_segments"


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
) -> RunReport:
    """Load the GPS files at ``path`` (a GPX/CSV/XLSX file, a folder of them, or a zip) as one ETL run.

    Each track point or table row is read once; it is stored as a fix, folded into the two
    representative fixes of a stop (counted as loaded), or rejected with its reason (unparseable,
    outside the region, duplicate, conflicting time, impossible jump, already loaded). Fixes are
    matched to the street segments loaded now and their segment visits derived; without streets
    they are kept unmatched until ``python -m etl rematch``.

    Parameters
    ----------
    engine
        Where to load.
    path
        ``gps/`` of the demo layout, or any GPX/CSV/XLSX file, folder or zip.
    crs
        CRS of the coordinates (``gcj02``, ``bd09``, ``EPSG:n``); wins over ``crs`` in ``source.toml``.
    mapping
        A column-mapping file overriding the ``[gps]`` defaults.
    force
        Load even when identical input was loaded before.
    """
    path = Path(path)
    region = get_region()
    columns = load_mapping(JOB.kind, mapping)

    def body(conn: Connection, run: Run) -> None:
        with source_files(path, GPS_SUFFIXES) as files:
            sources = gps_sources(files)
            run.stats["files"] = len(sources)
            load_sources(conn, run, sources, region, columns, crs)

    return run_file_job(
        engine, JOB, path, body, source_crs=normalize_crs(crs) if crs else None, mapping=mapping, force=force
    )


def rematch_in(conn: Connection, config: GpsConfig | None = None) -> tuple[int, int]:
    """Match every stored fix again and rebuild all segment visits, inside the caller's transaction.

    For jobs that change the street network (they call it in their own transaction).

    Returns
    -------
    fixes, visits
        Fixes matched again and visits written.
    """
    region = get_region()
    config = config or GpsConfig()
    streets = StreetIndex.from_db(conn, region.metric_crs, config.match_tolerance_m)
    return rematch_all(conn, streets, config, region.metric_crs)


def rematch(engine: Engine) -> RunReport:
    """Match every stored fix to the current street network and rebuild the segment visits, in one transaction."""

    def body(conn: Connection, run: Run) -> None:
        fixes, written = rematch_in(conn)
        run.read = run.loaded = fixes
        run.stats["visits"] = written

    return run_job(engine, "rematch", REMATCH_SOURCE, body)
