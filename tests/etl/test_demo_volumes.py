"""Volumes, category shares, rhythms, response times and personal-data shapes of the generated cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from etl.demo.cases import generate_cases
from etl.demo.config import DemoConfig, load_demo_config
from etl.demo.geography import build_geography
from etl.demo.places import build_places
from etl.demo.streets import build_network
from geo.region import Region

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


@pytest.fixture(scope="module")
def cases(region: Region):
    """One year of cases at half the report's volumes (no files written)."""
    geo = build_geography(region)
    rng = np.random.default_rng(11)
    net = build_network(geo, rng)
    places = build_places(geo, net, rng)
    return generate_cases(geo, net, places, rng, dt.date(2026, 11, 27), 1, 0.5)


@pytest.fixture(scope="module")
def demo_config(region: Region) -> DemoConfig:
    """The demo facts the cases follow (regions/wuyi/demo.toml)."""
    return load_demo_config(region)


def test_volumes_follow_the_2021_report(cases, demo_config: DemoConfig) -> None:
    rows = cases.rows.drop_duplicates("案件编号")
    counts = rows["程序类型"].value_counts()
    for procedure, per_year in demo_config.volumes.items():
        assert counts[procedure] == pytest.approx(per_year * 0.5, abs=2)
    assert rows["上报时间"].min() >= "2025-11-28" and rows["上报时间"].max() <= "2026-11-27 23:59:59"


def test_category_shares_within_each_procedure_type(cases, demo_config: DemoConfig) -> None:
    rows = cases.rows.drop_duplicates("案件编号")
    for procedure, mix in demo_config.mix.items():
        if procedure == "重大案件":
            continue  # too few to test shares
        share = rows[rows["程序类型"] == procedure]["案由/类别"].value_counts(normalize=True)
        total = sum(mix.values())
        for category, weight in mix.items():
            assert share.get(category, 0) == pytest.approx(weight / total, abs=0.03), (procedure, category)
    assert {"市容环卫", "违法建设", "工地扬尘", "秸秆焚烧", "渣土运输", "人行道违停"} <= set(rows["执法领域"])


def test_straw_burning_peaks_in_the_harvest_seasons_and_rhythms_are_daily(cases) -> None:
    rows = cases.rows
    straw = rows[rows["案由/类别"] == "秸秆露天焚烧"]["上报时间"].str[5:7]
    assert straw.isin(["05", "06", "10", "11"]).mean() > 0.8
    hours = rows["上报时间"].str[11:13].astype(int)
    assert (hours.between(8, 18)).mean() > 0.6 and (hours.between(2, 5)).mean() < 0.05


def test_response_times_grow_with_distance_and_differ_between_squads(cases) -> None:
    truth = cases.truth.drop_duplicates("case_number")
    rows = cases.rows.drop_duplicates("案件编号")
    dispatched = rows["发现方式"].isin(["12345热线", "群众投诉", "电话投诉", "微信公众号"]).to_numpy()
    minutes = truth["response_minutes"].to_numpy()[dispatched]
    distance = truth["distance_to_station_km"].to_numpy()[dispatched]
    ok = ~np.isnan(minutes)
    assert np.corrcoef(distance[ok], np.log(minutes[ok]))[0, 1] > 0.3
    by_squad = pd.Series(minutes[ok]).groupby(truth["squad_code"].to_numpy()[dispatched][ok]).median()
    assert by_squad["ZD13"] > 1.5 * by_squad["ZD01"]


def test_hotspots_gather_around_markets_schools_sites_and_the_old_town(cases) -> None:
    kinds = cases.truth["location_kind"].value_counts(normalize=True)
    assert kinds[["market", "school", "site"]].sum() > 0.2
    towns = cases.truth["township_code"].value_counts(normalize=True)
    assert towns.index[0] == "330723002"  # 壶山街道, the old town


def test_personal_data_has_the_real_shapes(cases) -> None:
    rows = cases.rows
    phones = pd.concat([rows["当事人电话"], rows["投诉人电话"]])
    phones = phones[phones != ""]
    assert phones.str.fullmatch(r"1[3-9]\d{9}").all()
    ids = rows["当事人证件号码"][rows["当事人证件号码"] != ""]
    people = ids[~ids.str.startswith(("91", "92"))]
    firms = ids[ids.str.startswith(("91", "92"))]
    assert len(people) > 100 and len(firms) > 100
    for number in people:
        assert len(number) == 18
        total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
        assert number[17] == "10X98765432"[total % 11]
    for code in firms:
        assert len(code) == 18
        total = sum(USCC_CHARS.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
        assert code[17] == USCC_CHARS[(31 - total % 31) % 31]
    complaints = rows[rows["程序类型"] == "投诉举报"]
    assert (complaints["投诉人"] != "").all()


def test_addresses_are_written_many_ways(cases) -> None:
    address = cases.rows["地址"]
    assert address.str.startswith("浙江省金华市武义县").mean() > 0.03
    assert (~address.str.contains("武义")).mean() > 0.3
    for pattern in ["附近", "对面", "交叉口", "幢", "单元", "村", r"\d+号"]:
        assert address.str.contains(pattern).any(), pattern
    styles = set(cases.truth["address_style"])
    assert {"门牌", "交叉口", "地点附近", "小区幢单元", "村社区", "道路"} <= styles
