"""The demo: generate the demo files once, then load them through the same ETL jobs a user runs.

The generator lives in this package (``etl.demo.generate.generate_demo``,
``python -m etl generate-demo OUT_DIR``); see ``etl/demo/README.md``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from etl.jobs.region import load_region
from etl.jobs.registry import JOBS
from etl.runs import RunReport
from geo.case_segments import assign_case_segments
from geo.region import get_region
from geo.settings import get_settings

# The CRS each demo folder is declared in, as a user would with --crs (others: the files' own).
# The KML routes were drawn in an Amap-based app. Every job's files are in raw/<kind>/.
DEMO_CRS = {"routes": "gcj02"}


def demo_folder() -> Path:
    """Where the demo files are generated: ``<EGIS_DATA_DIR>/demo``."""
    return Path(get_settings().data_dir) / "demo"


def ensure_demo_files(folder: Path | None = None, *, seed: int = 20211231, scale: float = 1.0) -> Path:
    """Generate the demo files unless a complete set (one a generation finished) is there; returns the folder."""
    from etl.demo.generate import COMPLETE_MARKER, generate_demo

    folder = folder or demo_folder()
    raw = folder / "raw"
    missing = [e.kind for e in JOBS if e.kind not in NOT_IN_DEMO and not (raw / e.kind).exists()]
    if not (raw / COMPLETE_MARKER).exists() or missing:  # a set from before a kind was added: again
        generate_demo(folder, seed=seed, scale=scale)
    return folder


NOT_IN_DEMO = ("basemap",)  # a county's own water / building files; the demo has none


def load_demo(engine: Engine, folder: Path | None = None, jobs: tuple[str, ...] | None = None) -> list[RunReport]:
    """Generate (if needed) and load the demo: the region, then every job (or only ``jobs``) in the registry's order.

    A second call changes nothing (identical input is skipped). Last, the segment each case counts on
    is recomputed (:func:`geo.case_segments.assign_case_segments`; a no-op when nothing changed).
    """
    raw = ensure_demo_files(folder) / "raw"
    reports = [load_region(engine, get_region())]
    for entry in JOBS:
        if entry.kind in NOT_IN_DEMO:
            continue
        if jobs is None or entry.kind in jobs:
            module = entry.job_module()
            reports.append(module.load(engine, raw / entry.kind, crs=DEMO_CRS.get(entry.kind)))
    with engine.begin() as conn:  # backfills a database migrated to 1301 whose files were loaded before
        assign_case_segments(conn, get_region())
    if jobs is None:  # approved plans and the chiefs' patrols that follow them in part (after every job)
        from etl.demo.planned_patrols import ensure_planned_patrols

        reports += ensure_planned_patrols(engine, raw.parent)
    return reports
