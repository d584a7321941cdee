"""The wall's figures by procedure type are the region's procedure types, as in the filters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

QINGLAN = Path(__file__).resolve().parents[1] / "data" / "regions" / "qinglan" / "region.toml"

# Builds the app (pages register), then the wall's KPI cards from figures that need no database.
_SCRIPT = """
import datetime as dt, json
from dashboard.app import create_app
create_app()
from dashboard.pages import wall
kpis = dict(reference_day=dt.date(2026, 11, 27), cases_this_year=10, cases_last_year=8, by_type={},
            complaints_on_time_share=0.9, complaints=3, complaints_median_arrive_min=12.0,
            cases_per_officer=1.0, officers=30, open_cases=2)
print(json.dumps([card.children[0].children for card in wall._kpi_cards(kpis)], ensure_ascii=False))
"""


def test_wall_cards_follow_the_regions_procedure_types() -> None:
    env = {**os.environ, "EGIS_REGION": str(QINGLAN)}  # a made-up 市 whose export has no 重大案件
    done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True)
    titles = json.loads(done.stdout.strip().splitlines()[-1])
    assert titles[1:4] == ["一般程序", "简易程序", "投诉举报"]
    assert "重大案件" not in titles
