"""Load sanitation routes (清扫路线, e.g. KML from 奥维互动地图) merged by route code, and the streets each covers.

The route code is 路线编号, or the route's name when there is none. After loading, each route
is linked to the street segments it runs along (see :mod:`etl.jobs._route_segments`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyproj import CRS
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._features import duplicates, feature_rows, merge_features, read_features
from etl.jobs._job_run import run_file_job
from etl.jobs._route_segments import match_routes
from etl.jobs.registry import job
from etl.lookup import squad_codes
from etl.runs import Run, RunReport
from geo.models import SanitationRoute
from geo.region import get_region
from geo.spatial import length_m

JOB = job("routes")


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
) -> RunReport:
    """Load sanitation routes from ``path`` (KML/KMZ, GeoJSON, Shapefile …) as one ETL run."""
    region = get_region()

    def body(conn: Connection, run: Run) -> None:
        features = read_features(conn, run, Path(path), JOB.kind, "multiline", region, crs=crs, mapping=mapping)
        codes, names = features.text("route_code"), features.text("name")
        nameless = ((codes == "") & (names == "")).to_numpy()
        features.reject(run, nameless, "route has neither a route code (路线编号) nor a name")
        codes, names = features.text("route_code"), features.text("name")
        codes = codes.where(codes != "", names)
        mask, reasons = duplicates(features, codes, "route code")
        features.reject(run, mask, reasons)
        codes, names = codes[~mask], names[~mask]
        frame = features.frame
        known = squad_codes(conn)
        squads = features.text("squad")
        unknown = sorted({s for s in squads if s and s not in known})
        if unknown:
            run.warn(f"routes name squads that are not loaded: {', '.join(unknown)}")
        geoms = np.asarray(frame.geometry.values, dtype=object)
        lengths = length_m(geoms, region.metric_crs)
        columns = {
            "route_code": codes,
            "name": [name or code for name, code in zip(names, codes, strict=True)],
            **{field: [value or None for value in features.text(field)] for field in ("vehicle", "crew", "schedule")},
            "squad_code": [known.get(squad) for squad in squads],
            "length_m": [round(float(length), 2) for length in lengths],
        }
        merge_features(conn, run, SanitationRoute.__table__, feature_rows(features, run, columns), JOB.merge_key)
        ids = list(
            conn.execute(
                text("SELECT id FROM sanitation_routes WHERE route_code = ANY(:codes)"), {"codes": list(codes)}
            ).scalars()
        )
        run.stats["route_segments"] = match_routes(conn, CRS.from_user_input(region.metric_crs).to_epsg(), ids)

    return run_file_job(engine, JOB, path, body, source_crs=crs, mapping=mapping, force=force)
