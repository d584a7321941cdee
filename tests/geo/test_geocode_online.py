"""The optional online geocoder: cached, used only for unmatched in-county addresses, never the network in tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from geo.db import get_engine
from geo.errors import ConfigError
from geo.geocode import GazetteerIndex, Geocoder, load_geocoder
from geo.geocode.online import TiandituGeocoder
from geo.region import Region


class FakeService:
    """Stands in for the HTTP call: canned answers by keyword, and a log of what was asked."""

    def __init__(self, answers: dict[str, dict]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, url: str, params: dict[str, str]) -> dict:
        keyword = params["ds"]
        self.asked.append(keyword)
        for word, answer in self.answers.items():
            if word in keyword:
                return answer
        return {"status": "101", "msg": "结果为空"}


def located(lon: float, lat: float, level: str = "兴趣点", score: int = 90) -> dict:
    return {"status": "0", "msg": "ok", "location": {"lon": lon, "lat": lat, "level": level, "score": score}}


@pytest.fixture(scope="module")
def index(sample_world_url: URL, region: Region) -> GazetteerIndex:
    with get_engine(sample_world_url).begin() as conn:
        return load_geocoder(conn, region).index


def test_online_answers_fill_gaps_inside_the_county_only(index: GazetteerIndex, tmp_path: Path) -> None:
    service = FakeService(
        {
            "温泉度假村": located(119.808, 28.886),
            "火星基地": located(121.5, 31.2),  # Shanghai: outside the county, never taken
            "某某山庄": located(119.8, 28.9, level="区县"),  # too coarse
        }
    )
    geocoder = Geocoder(index, online=TiandituGeocoder("k", tmp_path, fetch=service))
    spa = geocoder.geocode("温泉度假村")
    assert spa.level == "小区或地点" and spa.point == (119.808, 28.886) and spa.matched[-1] == "天地图"
    assert "天地图" in spa.reason and spa.score == pytest.approx(0.72)
    assert geocoder.geocode("火星基地").level == "未匹配"
    assert geocoder.geocode("某某山庄").level == "未匹配"
    # Offline matches, refusals and outside-county addresses never reach the service.
    assert geocoder.geocode("熟溪街道解放街25号").level == "门牌"
    assert geocoder.geocode("熟溪街道温泉度假村").level == "乡镇"
    assert geocoder.geocode("永康市西城街道").level == "未匹配" and geocoder.geocode("不详").level == "未匹配"
    assert geocoder.geocode("某某乡政府").level == "未匹配"  # a township the county does not have: outside
    assert len(service.asked) == 3 and all("浙江省武义县" in asked for asked in service.asked)


def test_answers_are_cached_on_disk(index: GazetteerIndex, tmp_path: Path) -> None:
    service = FakeService({"温泉度假村": located(119.808, 28.886)})
    first = Geocoder(index, cache_size=0, online=TiandituGeocoder("k", tmp_path, fetch=service))
    assert first.geocode("温泉度假村").point == (119.808, 28.886)
    again = Geocoder(index, cache_size=0, online=TiandituGeocoder("k", tmp_path, fetch=service))
    assert again.geocode("温泉度假村").point == (119.808, 28.886)
    assert len(service.asked) == 1 and len(list(tmp_path.rglob("*.json"))) == 1


def test_a_failing_service_is_no_answer_and_not_cached(index: GazetteerIndex, tmp_path: Path) -> None:
    def broken(url: str, params: dict[str, str]) -> dict:
        raise OSError("network unreachable")

    geocoder = Geocoder(index, online=TiandituGeocoder("k", tmp_path, fetch=broken))
    assert geocoder.geocode("温泉度假村").level == "未匹配" and not list(tmp_path.rglob("*.json"))


def test_online_is_off_by_default_and_needs_a_key(sample_world_url: URL, region: Region, tmp_path: Path) -> None:
    with get_engine(sample_world_url).begin() as conn:
        assert load_geocoder(conn, region, refresh=False).online is None
    with pytest.raises(ConfigError, match="EGIS_TIANDITU_KEY"):
        TiandituGeocoder(None, tmp_path)
