"""The demo: load the region and (once generated) the demo files through the real ETL jobs.

The generator of the demo files lives in this package (``etl.demo.generate.generate_demo``,
``python -m etl generate-demo OUT_DIR``); see ``etl/demo/README.md``.
"""

from __future__ import annotations

from sqlalchemy import Engine

from etl.jobs.region import load_region
from etl.runs import RunReport
from geo.region import get_region


def load_demo(engine: Engine) -> list[RunReport]:
    """Load everything the demo needs; a second call changes nothing (identical inputs are skipped)."""
    return [load_region(engine, get_region())]
