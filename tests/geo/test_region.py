"""The region config: Wuyi's values, the outline check, the working-day calendar, bad configs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.geometry

from geo.crs import gcj02_to_bd09
from geo.errors import ConfigError, ValidationError
from geo.outline_check import check_outline
from geo.region import Region, read_region
from geo.spatial import area_km2


def test_wuyi_config(region: Region) -> None:
    assert region.code == "330723"
    assert region.expected_squads == 13
    assert region.metric_crs == "EPSG:4549"
    assert region.timezone == "Asia/Shanghai"


def test_outline_converted_from_gcj02_matches_the_wgs84_outline(region: Region) -> None:
    check = check_outline(region)
    assert check is not None and check.problem() is None
    assert check.configured.iou > 0.95 and check.configured.offset_m < 100
    assert 1500 < area_km2(region.outline, region.metric_crs) < 1650  # official ~1,577 km²


@pytest.mark.parametrize("wrong", ["EPSG:4326", "bd09"])
def test_an_outline_read_in_the_wrong_crs_fails_naming_the_right_one(region: Region, wrong: str) -> None:
    # Left unconverted, the GCJ-02 outline still overlaps the true one at IoU ~0.94 (above the 0.9
    # threshold): the ~600 m offset of the centroids is what gives it away.
    check = check_outline(dataclasses.replace(region, outline_crs=wrong))
    assert check is not None and check.configured.iou > region.outline_check_min_iou
    assert check.configured.offset_m > 400 and check.best.crs == "gcj02"
    problem = check.problem()
    assert problem is not None and 'set crs = "gcj02"' in problem and repr(wrong) in problem


def test_a_baidu_outline_declared_gcj02_fails_naming_bd09(region: Region, tmp_path: Path) -> None:
    raw = shapely.geometry.shape(json.loads(region.outline_file.read_text(encoding="utf-8")))
    baidu = shapely.transform(raw, lambda xy: np.column_stack(gcj02_to_bd09(xy[:, 0], xy[:, 1])))
    path = tmp_path / "outline_bd09.geojson"
    path.write_text(json.dumps(shapely.geometry.mapping(baidu)), encoding="utf-8")
    declared_gcj = check_outline(dataclasses.replace(region, outline_file=path, outline_crs="gcj02"))
    assert 'set crs = "bd09"' in declared_gcj.problem()
    right = check_outline(dataclasses.replace(region, outline_file=path, outline_crs="bd09"))
    assert right.problem() is None and right.configured.offset_m < 100


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
