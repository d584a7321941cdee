"""Due times in years the holiday calendar does not list: the run says so, and adding the year recomputes them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from etl.jobs import cases
from etl.jobs.region import load_region
from geo.region import Region, get_region, read_region
from geo.settings import get_settings
from tests.conftest import calendar_block
from tests.etl.test_cases import case, fetch, write_csv

TZ = ZoneInfo("Asia/Shanghai")
ADDRESS = "熟溪街道解放街25号"


def _open(received: str) -> tuple[str, str, str, str]:
    return (received, "", "", "")


def test_cases_counted_in_a_year_the_calendar_lacks_are_reported_on_the_run(
    world_engine: Engine, tmp_path: Path, region_lacking: Callable[..., Region]
) -> None:
    table = [
        case("K1", ADDRESS, procedure="简易程序", status="处理中", times=_open("2025-03-05 10:00:00")),
        case("K2", ADDRESS, procedure="投诉举报", status="处理中", times=_open("2025-03-05 11:00:00")),
        case("K3", ADDRESS, procedure="一般程序", status="处理中", times=_open("2025-03-05 12:00:00")),  # calendar days
        case("K4", ADDRESS, procedure="投诉举报", status="处理中", times=_open("2024-12-30 09:00:00")),  # due in 2025
        case("K5", ADDRESS, procedure="简易程序", status="处理中", times=_open("2024-06-03 09:00:00")),  # 2024 listed
    ]
    path = write_csv(tmp_path / "cases.csv", table, "gbk")
    complete = cases.load(world_engine, path)
    assert complete.status == "succeeded" and "calendar_uncovered" not in complete.stats
    assert not any("calendar" in w for w in complete.warnings)

    region_lacking(2025)
    report = cases.load(world_engine, path, force=True)
    assert report.status == "succeeded" and report.loaded == 5
    assert report.stats["calendar_uncovered"] == {"2025": 3}
    warning = next(w for w in report.warnings if "working-day calendar" in w)
    assert "2025 (3 cases)" in warning and "[calendar.2025]" in warning


def test_adding_the_year_to_the_region_file_recomputes_the_stored_due_times(
    world_engine: Engine, tmp_path: Path, region_lacking: Callable[..., Region]
) -> None:
    lacking = region_lacking(2025)
    # 投诉举报: 5 working days. From 2025-09-30 over the National Day holidays (10-01…10-08, make-up
    # Saturday 10-11) that is 10-14; counting weekends only it is 10-07.
    table = [case("K6", ADDRESS, procedure="投诉举报", status="处理中", times=_open("2025-09-30 10:00:00"))]
    assert cases.load(world_engine, write_csv(tmp_path / "cases.csv", table, "gbk")).status == "succeeded"
    assert fetch(world_engine)["K6"]["due_at"] == dt.datetime(2025, 10, 7, 23, 59, 59, 999999, tzinfo=TZ)
    reload = load_region(world_engine, lacking)
    assert reload.stats["calendar_uncovered"] == {"2025": 1}
    assert any("[calendar.2025]" in w for w in reload.warnings)

    # The State Council's notice arrives: the year is added to the region file and the region reloaded.
    original = get_region().path  # still the copy
    full_text = (Path(__file__).resolve().parents[2] / "regions" / "wuyi" / "region.toml").read_text(encoding="utf-8")
    original.write_text(original.read_text(encoding="utf-8") + "\n" + calendar_block(full_text, 2025), encoding="utf-8")
    get_settings.cache_clear()
    completed = read_region(original)
    assert completed.calendar.covers(2025)
    report = load_region(world_engine, completed)
    assert report.status == "succeeded" and report.stats["due_times_recomputed"] == 1
    assert "calendar_uncovered" not in report.stats
    assert fetch(world_engine)["K6"]["due_at"] == dt.datetime(2025, 10, 14, 23, 59, 59, 999999, tzinfo=TZ)


def test_the_due_times_command_recomputes_and_warns(
    world_engine: Engine, schema_url: URL, tmp_path: Path, region_lacking: Callable[..., Region]
) -> None:
    table = [case("K7", ADDRESS, procedure="投诉举报", status="处理中", times=_open("2025-09-30 10:00:00"))]
    assert cases.load(world_engine, write_csv(tmp_path / "cases.csv", table, "gbk")).status == "succeeded"
    assert fetch(world_engine)["K7"]["due_at"] == dt.datetime(2025, 10, 14, 23, 59, 59, 999999, tzinfo=TZ)
    region_lacking(2025)  # e.g. a config that lost the year: the command follows the config either way
    env = {**os.environ, "DATABASE_URL": schema_url.render_as_string(hide_password=False)}
    done = subprocess.run(
        [sys.executable, "-m", "etl", "due-times"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "1 cases changed" in done and "2025 (1 cases)" in done.replace("\n", " ")
    assert fetch(world_engine)["K7"]["due_at"] == dt.datetime(2025, 10, 7, 23, 59, 59, 999999, tzinfo=TZ)
