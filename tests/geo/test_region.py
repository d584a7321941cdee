"""The region config: Wuyi's values, the outline check, the working-day calendar, bad configs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from geo.errors import ConfigError, ValidationError
from geo.region import Region, read_region
from geo.spatial import area_km2


def test_wuyi_config(region: Region) -> None:
    assert region.code == "330723"
    assert region.expected_squads == 13
    assert region.metric_crs == "EPSG:4549"
    assert region.timezone == "Asia/Shanghai"


def test_outline_converted_from_gcj02_matches_the_wgs84_outline(region: Region) -> None:
    assert region.outline_check() > 0.95
    assert 1500 < area_km2(region.outline, region.metric_crs) < 1650  # official ~1,577 km²


def test_time_limits(region: Region) -> None:
    assert region.time_limit("一般程序").unit == "calendar_days"
    assert region.time_limit("投诉举报").label() == "5个工作日"
    assert region.time_limit("不存在的类型") == region.time_limits["default"]


@pytest.mark.parametrize(
    "day,working",
    [
        ("2025-10-08", False),  # National Day + Mid-Autumn 2025
        ("2025-10-11", True),  # Saturday make-up working day
        ("2025-09-28", True),  # Sunday make-up working day
        ("2026-02-16", False),  # Spring Festival 2026
        ("2024-11-04", True),  # ordinary Monday
        ("2024-11-09", False),  # ordinary Saturday
    ],
)
def test_working_days(region: Region, day: str, working: bool) -> None:
    assert region.calendar.is_working_day(dt.date.fromisoformat(day)) is working


def test_adding_working_days_skips_the_holiday(region: Region) -> None:
    # a complaint received on the last working day before National Day 2025
    assert region.calendar.add_working_days(dt.date(2025, 9, 30), 1) == dt.date(2025, 10, 9)
    assert region.calendar.working_days_between(dt.date(2025, 9, 30), dt.date(2025, 10, 9)) == 1
    assert region.calendar.covers(2025) and not region.calendar.covers(2019)


def test_missing_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="region config not found"):
        read_region(tmp_path / "nope.toml")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "region.toml"
    bad.write_text('[region]\nname = "某县"\n[outline]\nfile = "missing.geojson"\n[time_limits]\nx = { value = 1 }\n')
    with pytest.raises(ValidationError) as info:
        read_region(bad)
    text = str(info.value)
    for expected in ("code is missing", "expected_squads is missing", "missing.geojson", "default is missing"):
        assert expected in text
