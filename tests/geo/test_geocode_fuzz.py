"""Property-based fuzzing of the address parser and matcher: any text gives a result, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from geo.geocode import load_geocoder
from geo.geocode.match import Geocoder
from geo.geocode.parse import parse
from geo.models import GEOCODE_LEVELS
from geo.region import Region

# Pieces of real addresses, so the fuzzer reaches deep into the parser, mixed with any text.
PIECES = [
    "浙江省",
    "金华市",
    "武义县",
    "永康市",
    "熟溪街道",
    "白洋街道",
    "柳城畲族镇",
    "柳城",
    "解放街",
    "武阳路",
    "与",
    "交叉口",
    "路口",
    "附近",
    "对面",
    "门口",
    "旁",
    "号",
    "弄",
    "幢",
    "单元",
    "室",
    "二十五",
    "3",
    "１２",
    "小区",
    "江山社区",
    "村",
    "不详",
    "???",
    " ",
    "（",
    "）",
    "#",
    "-",
    "之",
    "巷",
]
ADDRESS = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=9).map("".join)


@pytest.fixture(scope="module")
def geocoder(sample_world_url, region: Region) -> Geocoder:
    from geo.db import get_engine

    engine: Engine = get_engine(sample_world_url)
    with engine.begin() as conn:
        return load_geocoder(conn, region)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ADDRESS)
def test_any_text_parses(text: str) -> None:
    parse(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ADDRESS)
def test_any_text_geocodes_to_a_level_with_a_point_or_a_reason(geocoder: Geocoder, text: str) -> None:
    result = geocoder.geocode(text)
    assert result.level in GEOCODE_LEVELS
    if result.level == "未匹配":
        assert result.point is None and result.reason
    else:
        assert result.point is not None
        lon, lat = result.point
        assert 119.3 < lon < 120.1 and 28.4 < lat < 29.2  # never outside the county's neighbourhood
