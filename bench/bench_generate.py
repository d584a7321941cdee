"""Benchmark of the demo generator: generation time (median of runs), stage times and sizes at scales 1 and 10.

Run: ``.venv/bin/python bench/bench_generate.py [--runs 3] [--big-runs 1] [--scales 1 10]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.demo.generate import generate_demo


def _sizes(raw: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for folder in sorted(p for p in raw.iterdir() if p.is_dir()):
        out[folder.name] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6
    return out


def main() -> None:
    """Generate at each scale, print the median wall time, the stage times of the last run and sizes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--runs", type=int, default=3, help="runs at scales up to 1")
    parser.add_argument("--big-runs", type=int, default=1, help="runs at scales above 1")
    args = parser.parse_args()
    end = dt.date(2026, 11, 27)
    for scale in args.scales:
        runs = args.runs if scale <= 1 else args.big_runs
        times = []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(runs):
                start = time.perf_counter()
                summary = generate_demo(Path(tmp) / "demo", scale=scale, end=end)
                times.append(time.perf_counter() - start)
            raw = Path(tmp) / "demo" / "raw"
            files = sum(1 for f in raw.rglob("*") if f.is_file())
            sizes = _sizes(raw)
        rounded = [round(t, 1) for t in times]
        print(f"scale {scale:g}: median {statistics.median(times):.1f} s over {runs} run(s) {rounded}")
        print(f"  stages (last run, s): {summary.seconds}")
        print(f"  counts: {summary.counts}")
        print(
            f"  raw: {sum(sizes.values()):.1f} MB in {files:,} files; by folder (MB): "
            + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items())
        )
        fixes = summary.counts["patrol_fixes"] + summary.counts["sanitation_fixes"]
        print(f"  GPS fixes: {fixes:,}")


if __name__ == "__main__":
    main()
