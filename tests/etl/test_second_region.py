"""Another county is a new folder, not new code: a made-up 市 generates and loads its own demo.

``tests/data/regions/qinglan/`` is an invented county-level city (青岚市, prefecture 丹丘市) with
three townships, two squads, its own outline, calendar, time limits and demo facts. Its demo is
generated and loaded through the real jobs (``etl.demo.load_demo``) with no code change.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from dashboard.filters import procedure_types
from etl.demo import NOT_IN_DEMO, load_demo
from etl.demo.generate import generate_demo
from etl.jobs.registry import kinds
from geo.region import Region, get_region
from geo.settings import get_settings

QINGLAN = Path(__file__).resolve().parents[1] / "data" / "regions" / "qinglan" / "region.toml"
END = dt.date(2026, 11, 27)


@pytest.fixture
def qinglan() -> Iterator[Region]:
    """The made-up region as the configured one (``EGIS_REGION``) for the duration of a test."""
    previous = os.environ.get("EGIS_REGION")
    os.environ["EGIS_REGION"] = str(QINGLAN)
    get_settings.cache_clear()
    try:
        yield get_region()
    finally:
        if previous is None:
            os.environ.pop("EGIS_REGION", None)
        else:
            os.environ["EGIS_REGION"] = previous
        get_settings.cache_clear()


def test_made_up_city_generates_and_loads_its_own_demo(qinglan: Region, schema_engine: Engine, tmp_path: Path) -> None:
    assert qinglan.name == "青岚市" and get_region().name == "青岚市"
    assert procedure_types() == ["一般程序", "简易程序", "投诉举报"]  # the filters read the region: no 重大案件
    summary = generate_demo(tmp_path, seed=3, years=1, scale=1.0, end=END, region=qinglan)
    assert summary.counts["townships"] == 3 and summary.counts["squads"] == 2
    truth = pd.read_csv(tmp_path / "truth" / "cases.csv", dtype=str).fillna("")
    assert 450 < truth["case_number"].nunique() < 750  # 580 a year in its demo.toml

    reports = load_demo(schema_engine, tmp_path)
    plan_days = json.loads((tmp_path / "truth/generation.json").read_text(encoding="utf-8"))["plan_days"]
    order = ["region", *(k for k in kinds() if k not in NOT_IN_DEMO)]
    assert [r.job for r in reports] == [*order, *["gps"] * plan_days]  # then the plan days' patrols
    for report in reports:
        assert report.status == "succeeded", report
        assert report.read == report.loaded + report.rejected > 0, report

    with schema_engine.connect() as conn:
        county = conn.execute(text("SELECT name, aliases FROM admin_areas WHERE level = 'county'")).one()
        townships = conn.execute(text("SELECT count(*) FROM admin_areas WHERE level = 'township'")).scalar()
        squads = conn.execute(text("SELECT code, name FROM squads WHERE station IS NOT NULL ORDER BY code")).all()
        cases = pd.read_sql(
            text(
                "SELECT c.case_number, c.address, c.procedure_type, c.time_limit, c.township_code, c.squad_code, "
                "c.geocode_level, ST_Covers(a.geom, c.geom) AS inside FROM cases c "
                "JOIN admin_areas a ON a.level = 'county'"
            ),
            conn,
        )
        loaded = conn.execute(text("SELECT count(*) FROM cases")).scalar()
    assert county.name == "青岚市" and "青岚" in county.aliases
    assert townships == 3
    assert [tuple(r) for r in squads] == [("QL01", "岚城中队"), ("QL02", "石湖中队")]
    assert loaded == truth["case_number"].nunique()
    assert set(cases["squad_code"].dropna()) == {"QL01", "QL02"}
    # the region's own time limits (Wuyi's 简易程序 is 1 working day, 投诉举报 5)
    limits = cases.drop_duplicates("procedure_type").set_index("procedure_type")["time_limit"]
    assert limits["简易程序"] == "2个工作日" and limits["投诉举报"] == "7个工作日"

    # every case placed by its address lies inside the city, in the township the truth says
    placed = cases[cases["geocode_level"] != "未匹配"]
    assert len(placed) > 0.9 * loaded
    assert placed["inside"].all()
    last = truth.drop_duplicates("case_number", keep="last").set_index("case_number")
    true_town = last["township_code"]
    located = placed[placed["township_code"].notna()]
    agree = (located["township_code"] == located["case_number"].map(true_town)).mean()
    assert agree > 0.95, agree

    # a 市 written without its suffix, alone or after its prefecture's short name: 青岚石湖镇…, 丹丘青岚石湖镇…
    codes = {"岚城街道": "339982001", "石湖镇": "339982101", "云岭乡": "339982201"}
    clean = cases[cases["case_number"].map(last["dirty"]) == ""]
    for prefix in ("青岚", "丹丘青岚"):
        written = clean[clean["address"].str.startswith(tuple(prefix + t for t in codes))]
        assert len(written) >= 5, prefix
        rest = written["address"].str[len(prefix) :]
        named = rest.map(lambda a: next(c for t, c in codes.items() if a.startswith(t)))
        assert (written["geocode_level"] != "未匹配").all(), written[["address", "geocode_level"]]
        assert (written["township_code"] == named).all(), written[["address", "township_code"]]
