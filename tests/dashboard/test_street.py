"""The street chief page on a phone-sized screen: streets by time since patrol, open cases, coverage trend."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geo.db import get_engine
from tests.dashboard.conftest import wait_for_traces, watch_callbacks

pytestmark = pytest.mark.browser


def test_street_chief_page_reads_on_a_phone(page_at, seeded, screenshots) -> None:
    page = page_at("/street/JL001", width=390, height=844)
    failures = watch_callbacks(page)
    page.reload()
    state = wait_for_traces(page, "street-map", "patrol_coverage")
    page.wait_for_selector("#street-cases .case-card", timeout=20000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "street_390x844.png"))
    page.screenshot(path=str(screenshots / "street_390x844_full.png"), full_page=True)

    names = {t["name"] for t in state["traces"] if t["meta"] and t["meta"]["layer"] == "patrol_coverage"}
    assert "超过7天或未巡查" in names  # three of the six streets were never patrolled
    assert names & {"1天内巡查", "3天内巡查"}  # one was patrolled yesterday
    hover = [t for t in state["traces"] if t["name"] == "路段信息"]
    assert hover and hover[0]["n"] == 6  # exactly the chief's six segments

    with get_engine().connect() as conn:
        open_cases = conn.execute(
            text(
                """SELECT count(*) FROM cases c JOIN chief_segments cs ON cs.segment_id = c.near_segment_id
                   JOIN street_chiefs s ON s.id = cs.chief_id WHERE s.code = 'JL001' AND c.closed_at IS NULL"""
            )
        ).scalar_one()
    assert open_cases > 0
    assert f"未结案件 {open_cases} 件" in page.inner_text("#street-summary")
    assert page.locator("#street-cases .case-card").count() == min(open_cases, 100)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    trend = page.evaluate("document.querySelector('#street-trend .js-plotly-plot')._fullData.map(t => t.x.length)")
    assert trend[0] == 6 and trend[-1] == 1  # six whole days of the 7-day window, and today under way
    assert not failures and not page.console_errors


def test_unknown_chief_gets_a_message(page_at, seeded) -> None:
    page = page_at("/street/NOBODY", width=390, height=844)
    page.wait_for_selector(".page-error", timeout=20000)
    assert "未找到街路长" in page.inner_text(".page-error")
