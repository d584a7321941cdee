"""Load street segments (lines with name, class, township, door-number ranges) by their segment key.

Segments are merged on ``segment_key``; a row without one gets a key from its name and
geometry, so the same feature keeps its key across loads. ``length_m`` is measured in the
region's metric CRS; a missing township code is taken from the township the segment lies in
(or the nearest township seat when no township polygons are loaded); the squad from the
current jurisdictions.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
from pyproj import CRS
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from etl.jobs._features import duplicates, feature_rows, hash_key, merge_features, read_features
from etl.jobs._job_run import run_file_job
from etl.jobs._route_segments import match_routes
from etl.jobs.gps import rematch_in
from etl.jobs.registry import job
from etl.lookup import fill_townships, midpoints, squads_of
from etl.runs import Run, RunReport
from geo.case_segments import assign_case_segments
from geo.models import StreetSegment
from geo.region import get_region
from geo.spatial import length_m

JOB = job("streets")
DOOR_FIELDS = ("left_from", "left_to", "right_from", "right_to")


def _door(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and 0 <= number < 1e8 else None


ONEWAY_FORWARD = {"ft", "yes", "y", "true", "1", "f", "是", "单行", "正向"}
ONEWAY_BACKWARD = {"tf", "-1", "t", "r", "reverse", "反向", "逆向"}


def _oneway(value: str) -> str | None:
    """'FT' (one-way in digitising direction), 'TF' (against it) or None (both ways) from a cell."""
    cell = value.strip().lower().removesuffix(".0")
    return "FT" if cell in ONEWAY_FORWARD else "TF" if cell in ONEWAY_BACKWARD else None


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
) -> RunReport:
    """Load street segments from ``path`` (file, zip or folder) as one ETL run."""
    region = get_region()

    def body(conn: Connection, run: Run) -> None:
        features = read_features(conn, run, Path(path), JOB.kind, "line", region, crs=crs, mapping=mapping)
        names = features.text("name")
        keys = features.text("segment_key").map(lambda k: k.removesuffix(".0"))
        generated = keys == ""
        if generated.any():
            geoms = features.frame.geometry.values
            keys[generated] = [
                hash_key(n, g) for n, g in zip(names[generated], geoms[generated.to_numpy()], strict=True)
            ]
            run.stats["generated_keys"] = int(generated.sum())
        mask, reasons = duplicates(features, keys, "segment_key")
        features.reject(run, mask, reasons)
        keys, names = keys[~mask], names[~mask]
        frame = features.frame
        geoms = np.asarray(frame.geometry.values, dtype=object)
        points = midpoints(geoms)
        townships = fill_townships(conn, run.stats, list(features.text("township_code")), points, region)
        squads = squads_of(conn, points)
        lengths = length_m(geoms, region.metric_crs)
        columns = {
            "segment_key": keys,
            "name": [name or None for name in names],
            "aliases": [
                [a for a in text.replace("、", ",").split(",") if a.strip()] for text in features.text("aliases")
            ],
            "road_class": [road_class or None for road_class in features.text("road_class")],
            "township_code": townships,
            "squad_code": squads,
            **{f: [_door(v) for v in features.text(f)] for f in DOOR_FIELDS},
            "length_m": [round(float(length), 2) for length in lengths],
            "oneway": [_oneway(v) for v in features.text("oneway")],
        }
        rows = feature_rows(features, run, columns)
        merged = merge_features(conn, run, StreetSegment.__table__, rows, JOB.merge_key)
        if merged.inserted or merged.updated:
            run.stats["route_segments"] = match_routes(conn, CRS.from_user_input(region.metric_crs).to_epsg())
            # GPS fixes follow the network: matched again and their visits rebuilt in this transaction
            run.stats["gps_fixes_rematched"], run.stats["segment_visits"] = rematch_in(conn)
            # cases count on the nearest segment of the new network (geo/case_segments.py)
            run.stats["case_segments"] = asdict(assign_case_segments(conn, region))

    return run_file_job(engine, JOB, path, body, source_crs=crs, mapping=mapping, force=force)
