"""The demo: load the region and (once generated) the demo files through the real ETL jobs."""

from __future__ import annotations

from sqlalchemy import Engine

from etl.jobs.region import load_region
from etl.runs import RunReport
from geo.region import get_region


def load_demo(engine: Engine) -> list[RunReport]:
    """Load everything the demo needs; a second call changes nothing (identical inputs are skipped)."""
    return [load_region(engine, get_region())]
