"""Load a large street file with our streets job and with ``ogr2ogr -f PostgreSQL`` into one PostGIS; print the ratio.

Usage: ``.venv/bin/python bench/bench_load_vs_ogr2ogr.py [--segments N] [--runs R]``
(embedded cluster only: it uses a scratch database ``<db>_bench`` in it.)

Both load the same GeoPackage of N street segments (WGS-84, the demo's street attributes).
ogr2ogr copies the features into a fresh table (COPY, GiST index); our job also validates every
geometry, checks it lies in the county, measures its length in EPSG:4549, assigns its squad and
merges on the segment key. Every run starts from an empty table. Medians of R runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from sqlalchemy import text

from etl.jobs import streets
from geo.db import get_engine
from geo.db.cluster import Cluster
from geo.db.setup import sibling_database
from geo.region import get_region
from geo.settings import get_settings


def make_streets(count: int, path: Path) -> None:
    """``count`` short street segments on a jittered grid inside the county outline."""
    region = get_region()
    outline = shapely.make_valid(region.outline)
    shapely.prepare(outline)
    rng = np.random.default_rng(7)
    xmin, ymin, xmax, ymax = outline.bounds
    starts = []
    while len(starts) < count:
        x = rng.uniform(xmin, xmax, count)
        y = rng.uniform(ymin, ymax, count)
        inside = shapely.contains_xy(outline, x, y)
        starts += list(zip(x[inside], y[inside], strict=True))
    starts = np.array(starts[:count])
    angle = rng.uniform(0, 2 * np.pi, count)
    steps = rng.integers(2, 6, count)
    lines = []
    for (x, y), a, n in zip(starts, angle, steps, strict=True):
        dx, dy = np.cos(a) * 0.0008, np.sin(a) * 0.0008
        coords = [(x + k * dx + rng.normal(0, 5e-5), y + k * dy + rng.normal(0, 5e-5)) for k in range(n)]
        lines.append(shapely.LineString(coords))
    frame = gpd.GeoDataFrame(
        {
            "segment_id": [f"B{i:07d}" for i in range(count)],
            "name": [f"测试路{i % 997}" for i in range(count)],
            "road_class": rng.choice(["主干路", "次干路", "支路", "巷"], count),
            "township": ["330723001"] * count,
            "left_from": [1] * count,
            "left_to": [99] * count,
            "right_from": [2] * count,
            "right_to": [98] * count,
        },
        geometry=lines,
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(frame, path, layer="streets")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = get_settings()
    if not settings.embedded:
        sys.exit("this benchmark uses the embedded cluster; unset DATABASE_URL")
    cluster = Cluster.from_settings()
    database = f"{settings.db_name}_bench"
    url = sibling_database(database)
    engine = get_engine(url)
    pg = f"PG:host={cluster.socket_dir} port={cluster.port} user={url.username} dbname={database}"

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "streets.gpkg"
        began = time.perf_counter()
        make_streets(args.segments, path)
        print(
            f"file: {args.segments:,} segments, {path.stat().st_size / 1e6:.1f} MB GeoPackage "
            f"(made in {time.perf_counter() - began:.1f} s)"
        )
        ours, theirs = [], []
        for run in range(args.runs):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE street_segments CASCADE"))
            began = time.perf_counter()
            report = streets.load(engine, path, force=True)
            ours.append(time.perf_counter() - began)
            assert report.status == "succeeded" and report.loaded == args.segments, report

            began = time.perf_counter()
            subprocess.run(
                [
                    "ogr2ogr",
                    "-f",
                    "PostgreSQL",
                    pg,
                    str(path),
                    "streets",
                    "-nln",
                    "bench_ogr2ogr_streets",
                    "-overwrite",
                    "-lco",
                    "GEOMETRY_NAME=geom",
                    "-lco",
                    "SPATIAL_INDEX=GIST",
                ],
                check=True,
            )
            theirs.append(time.perf_counter() - began)
            print(f"run {run + 1}: etl streets job {ours[-1]:.2f} s, ogr2ogr {theirs[-1]:.2f} s")
        with engine.begin() as conn:
            loaded = conn.execute(text("SELECT count(*) FROM street_segments")).scalar()
            copied = conn.execute(text("SELECT count(*) FROM bench_ogr2ogr_streets")).scalar()
            conn.execute(text("DROP TABLE bench_ogr2ogr_streets"))
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(f"rows: etl {loaded:,}, ogr2ogr {copied:,}")
    print(
        f"median of {args.runs}: etl {ours_median:.2f} s ({args.segments / ours_median:,.0f} rows/s), "
        f"ogr2ogr {theirs_median:.2f} s ({args.segments / theirs_median:,.0f} rows/s)"
    )
    print(
        f"ratio etl / ogr2ogr: {ours_median / theirs_median:.2f} (of the medians); "
        f"{statistics.median(o / t for o, t in zip(ours, theirs, strict=True)):.2f} (median of per-run ratios)"
    )


if __name__ == "__main__":
    main()
