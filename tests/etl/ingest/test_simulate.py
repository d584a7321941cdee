"""The simulator replays the demo's latest GPS day and its case events through the real API, like devices."""

from __future__ import annotations

import datetime as dt
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


def test_live_fixes_reach_the_api_within_the_first_minute_at_lunch(api: Api, demo_dir: Path, region) -> None:
    """Replaying the demo day's 12:30 as now: a live fix (stamped within the wall's online limit) is
    accepted within a minute of the start, after the backfill has caught up."""
    _, items = gps_items(demo_dir / "raw" / "gps", region)
    lunch = 12.5 * 3600
    default = Simulator(api.url, api.token, region, speed=20, replay_at=lunch)
    assert default.start_second == 0  # the demo files end at midnight: the replay fills today from then
    simulator = Simulator(api.url, api.token, region, speed=20, backfill_hours=0.5, catch_up_s=10, replay_at=lunch)
    simulator.run(items, for_s=60, tick_s=0.5)
    assert simulator.first_live is not None and simulator.first_live <= 60, simulator.first_live
    with api.engine.connect() as conn:
        newest = conn.execute(text("SELECT max(ts) FROM gps_fixes WHERE subject_kind = 'patrol'")).scalar_one()
    started = simulator.midnight + dt.timedelta(seconds=lunch)
    assert newest is not None and newest >= started - dt.timedelta(minutes=5)
