"""The demo config beside a region config: read, checked against the region, every problem reported at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl.demo.config import load_demo_config
from etl.demo.geography import build_geography
from geo.errors import ConfigError, ValidationError
from geo.region import Region, read_region

QINGLAN = Path(__file__).resolve().parents[1] / "data" / "regions" / "qinglan"


def test_wuyi_demo_config_holds_the_13_squads_and_the_report_volumes(region: Region) -> None:
    config = load_demo_config(region)
    assert [s.code for s in config.squads] == [f"ZD{i:02d}" for i in range(1, 14)]
    assert sum(s.officers for s in config.squads) == region.officers == 135
    assert [s.code for s in config.squads if config.is_urban(s)] == ["ZD01", "ZD02", "ZD03"]
    assert config.volumes == {"一般程序": 5300, "简易程序": 8400, "重大案件": 117, "投诉举报": 6200}


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "region"
    shutil.copytree(QINGLAN, folder)
    return folder


def test_every_problem_of_a_demo_config_is_reported_at_once(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    demo = folder / "demo.toml"
    text = demo.read_text(encoding="utf-8")
    text = text.replace('"违法建设" = 30', '"违法建设" = 30\n"不存在的案由" = 5')  # unknown category in a mix
    text = text.replace('hours = "evening"', 'hours = "midnight"')  # unknown hour profile
    text = text.replace('"投诉举报" = "QL{date}{seq:04d}"', '"投诉举报" = "QL{day}{seq:04d}"')  # unknown field
    text = text.replace("officers = 12", "officers = 11")  # 29 officers, the region has 30
    demo.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_demo_config(read_region(folder / "region.toml"))
    message = str(caught.value)
    for expected in ("不存在的案由", "midnight", "day", "add up to 29"):
        assert expected in message, message
    assert len(caught.value.problems) == 4


def test_squads_must_tile_the_regions_townships(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    demo = folder / "demo.toml"
    text = demo.read_text(encoding="utf-8").replace('["339982101", "339982201"]', '["339982101", "339982999"]')
    demo.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        build_geography(read_region(folder / "region.toml"))
    assert any("339982999" in p for p in caught.value.problems)
    assert any("339982201" in p and "no squad" in p for p in caught.value.problems)


def test_a_region_without_a_demo_config_says_where_it_looked(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "demo.toml").unlink()
    with pytest.raises(ConfigError, match=r"not found: .*demo\.toml"):
        load_demo_config(read_region(folder / "region.toml"))
