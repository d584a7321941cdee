"""The simulator replays the demo's latest GPS day and its case events through the real API, like devices."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from etl.demo.simulate import Simulator, case_items, gps_items
from tests.etl.ingest.conftest import Api


def test_simulator_fills_today_up_to_now_through_the_api(api: Api, demo_dir: Path, region) -> None:
    day, items = gps_items(demo_dir / "raw" / "gps", region)
    assert day is not None and items
    events = case_items(demo_dir / "raw" / "cases", day, region)
    assert {i.body["stage"] for i in events} >= {"received"}
    simulator = Simulator(api.url, api.token, region, speed=1e7, backfill_hours=24)
    result = simulator.run(items + events, until_now=True, tick_s=0.1)
    due = [i for i in items + events if simulator.start_second <= i.second <= simulator.sent_until]
    assert result["sent_gps"] + result["sent_cases"] == len(due) > 0
    with api.engine.connect() as conn:
        fixes = conn.execute(text("SELECT count(*) FROM gps_fixes WHERE ts::date >= current_date - 1")).scalar_one()
        rejects = conn.execute(text("SELECT count(*) FROM etl_rejects")).scalar_one()
    assert result["accepted"] > 0 and fixes > 0
    assert result["accepted"] + result["duplicates"] + result["rejected"] == len(due)
    assert rejects == result["duplicates"] + result["rejected"]
    again = Simulator(api.url, api.token, region, speed=1e7, backfill_hours=24).run(due, until_now=True, tick_s=0.1)
    assert again["accepted"] == 0  # replaying the same day again stores nothing twice
