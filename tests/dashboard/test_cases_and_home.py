"""The case list (search, review queue, map of the selection) and the home page's links."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geo.db import get_engine
from tests.dashboard.conftest import map_state, watch_callbacks

pytestmark = pytest.mark.browser


def test_case_search_finds_the_matching_cases_and_maps_them(page_at, seeded, screenshots) -> None:
    page = page_at("/cases")
    failures = watch_callbacks(page)
    page.reload()
    page.wait_for_selector("#cases-grid .ag-row", timeout=20000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "cases_1920x1080.png"))
    before = page.inner_text("#cases-count")
    page.fill("#cases-search", "解放街")
    page.press("#cases-search", "Enter")
    page.wait_for_function("(s) => document.querySelector('#cases-count').innerText !== s", arg=before, timeout=20000)
    page.wait_for_timeout(1000)
    count_text = page.inner_text("#cases-count")
    addresses = page.locator("#cases-grid .ag-row [col-id='address']").all_inner_texts()
    assert addresses and all("解放街" in a for a in addresses)
    shown = int(count_text.split("共 ")[1].split(" 件")[0])
    with get_engine().connect() as conn:
        newest = conn.execute(text("SELECT max(received_at) FROM cases")).scalar_one()
        expected = conn.execute(
            text(
                """SELECT count(*) FROM cases WHERE (address ILIKE '%解放街%' OR case_number ILIKE '%解放街%'
                   OR category ILIKE '%解放街%' OR description ILIKE '%解放街%')
                   AND received_at >= date_trunc('day', CAST(:n AS timestamptz) AT TIME ZONE 'Asia/Shanghai')
                                      AT TIME ZONE 'Asia/Shanghai' - interval '29 days'"""
            ),
            {"n": newest},
        ).scalar_one()
    assert shown == expected == len(addresses)
    state = map_state(page, "cases-map")
    assert sum(t["n"] for t in state["traces"]) == len(addresses)  # every listed case is on the map
    assert not failures and not page.console_errors


def test_review_queue_lists_the_unmatched_addresses(page_at, seeded) -> None:
    page = page_at("/cases")
    page.wait_for_selector("#cases-grid .ag-row", timeout=20000)
    page.get_by_text("待核查地址", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('#cases-count').innerText.includes('待核查地址')", timeout=20000
    )
    page.wait_for_timeout(800)
    levels = page.locator("#cases-grid .ag-row [col-id='geocode_level']").all_inner_texts()
    assert levels and set(levels) == {"未匹配"}
    reasons = page.locator("#cases-grid .ag-row [col-id='review_reason']").all_inner_texts()
    assert all("未匹配" in r for r in reasons)


def test_home_links_every_squad_and_chief(page_at, seeded, screenshots) -> None:
    page = page_at("/")
    page.wait_for_selector("#home-squads .chip", timeout=20000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "home_1920x1080.png"))
    squads = page.locator("#home-squads a")
    assert squads.count() == 13
    chiefs = page.locator("#home-chiefs a")
    assert sorted(chiefs.evaluate_all("els => els.map(e => e.getAttribute('href'))")) == [
        "/street/JL001",
        "/street/JL002",
    ]
    page.get_by_role("link", name="白洋中队").click()
    page.wait_for_selector(".squad-page h1", timeout=20000)
    assert "白洋中队" in page.inner_text(".squad-page h1")
    assert page.url.endswith("/squad/ZD01")
