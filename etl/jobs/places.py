"""Load named places (小区, markets, schools, hospitals, sites …) as points, merged by their place key.

A row without a key gets one from its name and position; a row without a name is rejected.
A missing township code is taken from the location.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from etl.jobs._features import duplicates, feature_rows, merge_features, read_features
from etl.jobs._job_run import run_file_job
from etl.jobs.registry import job
from etl.lookup import fill_townships
from etl.runs import Run, RunReport
from geo.models import Place
from geo.region import get_region

JOB = job("places")


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
) -> RunReport:
    """Load places from ``path`` (CSV/XLSX with lon/lat, or any point file) as one ETL run."""
    region = get_region()

    def body(conn: Connection, run: Run) -> None:
        features = read_features(conn, run, Path(path), JOB.kind, "point", region, crs=crs, mapping=mapping)
        features.reject(run, (features.text("name") == "").to_numpy(), "place has no name")
        names = features.text("name")
        keys = features.text("place_key")
        geoms = features.frame.geometry.values
        for i in np.flatnonzero((keys == "").to_numpy()):
            where = shapely.to_wkt(geoms[i], rounding_precision=6)
            keys.iloc[i] = "h:" + hashlib.sha1(f"{names.iloc[i]}|{where}".encode()).hexdigest()[:16]
        mask, reasons = duplicates(features, keys, "place key")
        features.reject(run, mask, reasons)
        keys, names = keys[~mask], names[~mask]
        frame = features.frame
        geoms = np.asarray(frame.geometry.values, dtype=object)
        townships = fill_townships(conn, run.stats, list(features.text("township_code")), geoms, region)
        columns = {
            "place_key": keys,
            "name": names,
            "kind": [kind[:20] or None for kind in features.text("kind")],
            "address": [address or None for address in features.text("address")],
            "township_code": townships,
        }
        merge_features(conn, run, Place.__table__, feature_rows(features, run, columns), JOB.merge_key)

    return run_file_job(engine, JOB, path, body, source_crs=crs, mapping=mapping, force=force)
