"""Benchmark every layer's data + build on synthetic data at demo scale and 10×, and Gi* against esda.

Usage: ``.venv/bin/python bench/bench_layers.py [--scales 1 10] [--runs 5] [--regenerate] [--gi-cells 100000]
[--layers streets patrol_coverage] [--skip-gi]``

Each scale gets its own database ``<db>_bench<scale>`` in the embedded cluster (or next to the
``DATABASE_URL`` database), filled once by ``bench/_synthetic.sql``. Prints medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from sqlalchemy import text
from sqlalchemy.engine import URL

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.db import get_engine
from geo.db.setup import sibling_database
from geo.settings import get_settings
from layers.base import LayerParams
from layers.registry import get_layer, layer_names

END = dt.date(2026, 11, 26)  # last day of the synthetic data


def bench_url(scale: int) -> URL:
    """URL of the benchmark database of ``scale`` (created and migrated if missing)."""
    return sibling_database(f"{get_settings().db_name}_bench{scale}")


def fill(url: URL, scale: int, regenerate: bool) -> None:
    """Generate the synthetic data unless it is there already."""
    engine = get_engine(url)
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        if have and not regenerate:
            return
        conn.execute(
            text(
                "TRUNCATE segment_visits, route_segments, sanitation_routes, chief_segments, street_chiefs, cases,"
                " street_segments, jurisdictions, squads, admin_areas RESTART IDENTITY CASCADE"
            )
        )
        started = time.perf_counter()
        script = (Path(__file__).parent / "_synthetic.sql").read_text(encoding="utf-8")
        raw = conn.connection.driver_connection
        raw.execute(script.replace(":scale", str(int(scale))))
        print(f"  generated scale {scale} in {time.perf_counter() - started:.0f} s", flush=True)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def counts(url: URL) -> dict[str, int]:
    """Row counts of the tables the layers read."""
    tables = ("street_segments", "street_chiefs", "cases", "segment_visits", "sanitation_routes")
    with get_engine(url).connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def scenarios() -> dict[str, LayerParams]:
    """Realistic parameters of each layer as the dashboard would ask for them."""
    month = LayerParams(start=END - dt.timedelta(days=29), end=END)
    week = LayerParams(start=END - dt.timedelta(days=6), end=END)
    year = LayerParams(start=END - dt.timedelta(days=364), end=END)
    out = {name: LayerParams() for name in layer_names()}
    out.update(
        cases=month,
        hotspots=year,
        density=year,
        emerging=LayerParams(end=END, options={"weeks": 26}),
        case_rates=month,
        patrol_coverage=week,
        underpatrolled=month,
        response_times=month,
        sanitation=week,
    )
    out["response_times (1 year)"] = year
    out["hotspots (2 years)"] = LayerParams(start=END - dt.timedelta(days=729), end=END)
    out["hotspots (segments, 1 year)"] = LayerParams(start=year.start, end=END, options={"unit": "segment"})
    return out


def time_layers(url: URL, runs: int, only: list[str] | None = None) -> list[tuple[str, float, float, float, int]]:
    """(name, data ms, build ms, total ms, payload KB) medians per scenario (``only``: these layers)."""
    rows = []
    engine = get_engine(url)
    for label, params in scenarios().items():
        if only and label.split(" ")[0] not in only:
            continue
        layer = get_layer(label.split(" ")[0])
        data_ms, build_ms, total_ms = [], [], []
        payload = 0
        for _ in range(runs):
            with engine.connect() as conn:
                t0 = time.perf_counter()
                data = layer.data(conn, params)
                t1 = time.perf_counter()
                result = layer.build(data, params)
                t2 = time.perf_counter()
            data_ms.append((t1 - t0) * 1000)
            build_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
            payload = len(pio.to_json(go.Figure(result.traces), validate=False)) // 1024
        rows.append(
            (label, statistics.median(data_ms), statistics.median(build_ms), statistics.median(total_ms), payload)
        )
    return rows


def bench_gi(cells_wanted: int, runs: int) -> None:
    """Gi* on ~``cells_wanted`` H3 cells: ours against esda on the same cells and weights."""
    import esda
    from libpysal.weights import WSP

    from layers.stats.gistar import gi_star, star_weights
    from layers.stats.hexgrid import contiguity, point_cells, with_rings

    rng = np.random.default_rng(0)
    n_points = int(cells_wanted * 1.2)
    lat = 28.5 + rng.random(n_points) * 0.55
    lon = 119.45 + rng.random(n_points) * 0.52
    cells = with_rings(point_cells(lat, lon, 10), 1)[:cells_wanted]
    y = rng.poisson(0.3, len(cells)).astype(float)
    t0 = time.perf_counter()
    adjacency = contiguity(cells)
    weights_s = time.perf_counter() - t0
    ours, theirs = [], []
    w = WSP(adjacency).to_W(silence_warnings=True)
    for _ in range(runs):
        t0 = time.perf_counter()
        result = gi_star(y, star_weights(adjacency, "B"))
        ours.append(time.perf_counter() - t0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            reference = esda.G_Local(y, w, transform="B", star=True, permutations=0)
            theirs.append(time.perf_counter() - t0)
    diff = float(np.max(np.abs(result.z - reference.Zs)))
    o, t = statistics.median(ours), statistics.median(theirs)
    print(f"\nGi* on {len(cells):,} H3 cells (res 10, {adjacency.nnz:,} neighbour pairs), median of {runs}:")
    print(f"  weights (H3 contiguity)  {weights_s * 1000:8.1f} ms (once, shared by both)")
    print(f"  ours (star_weights+gi)   {o * 1000:8.1f} ms")
    print(f"  esda G_Local(star, B)    {t * 1000:8.1f} ms   (W already built; permutations=0)")
    print(f"  esda / ours              {t / o:8.1f} ×   max |z diff| = {diff:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--gi-cells", type=int, default=100_000)
    parser.add_argument("--skip-layers", action="store_true")
    parser.add_argument("--skip-gi", action="store_true")
    parser.add_argument("--layers", nargs="+", help="only these layers (names as registered)")
    args = parser.parse_args()
    if not args.skip_layers:
        for scale in args.scales:
            url = bench_url(scale)
            fill(url, scale, args.regenerate)
            print(f"\nscale {scale}×: " + ", ".join(f"{k} {v:,}" for k, v in counts(url).items()), flush=True)
            print(f"  {'layer':30s} {'data ms':>9s} {'build ms':>9s} {'total ms':>9s} {'payload KB':>11s}")
            for label, d, b, total, kb in time_layers(url, args.runs, args.layers):
                print(f"  {label:30s} {d:9.1f} {b:9.1f} {total:9.1f} {kb:11d}", flush=True)
    if not args.skip_gi:
        bench_gi(args.gi_cells, args.runs)


if __name__ == "__main__":
    main()
