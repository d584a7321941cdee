"""A street chief on a 390×844 phone: login in capitals, their own page, which street to patrol, the
map zooming to a tapped street, today's partial coverage, tappable case cards; the home page on a phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text

from geo.db import get_engine
from tests.dashboard.conftest import (
    TEST_PASSWORD,
    foreign_requests,
    map_state,
    record_requests,
    wait_for_squad_areas,
    wait_for_traces,
    watch_callbacks,
)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, dash_server):
    """A new 390×844 page, not logged in; closed after the test, which fails if a request left the app."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.requests = record_requests(page)
    page.console_errors = []
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    foreign = foreign_requests(page.requests, dash_server)
    context.close()
    assert foreign == []


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _extent(name: str) -> tuple[float, float, float, float]:
    with get_engine().connect() as conn:
        box = conn.execute(
            text(
                """SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(s.geom) AS e
                   FROM street_segments s JOIN chief_segments cs ON cs.segment_id = s.id
                   JOIN street_chiefs c ON c.id = cs.chief_id WHERE c.code = 'JL001' AND s.name = :n) x"""
            ),
            {"n": name},
        ).one()
    return tuple(float(v) for v in box)


def test_a_chief_logs_in_in_capitals_and_finds_the_street_to_patrol(phone, dash_server, seeded, screenshots) -> None:
    page = phone
    failures = watch_callbacks(page)
    page.goto(f"{dash_server}/login")
    page.fill("input[name=username]", "CHIEF1")  # what phone auto-capitalisation types
    page.screenshot(path=str(screenshots / "chief_1_login_390x844.png"))
    _log_in(page, dash_server, "CHIEF1")
    assert page.url == f"{dash_server}/street/JL001"  # their own page, not the generic home page
    before = wait_for_traces(page, "street-map", "patrol_coverage")
    page.wait_for_selector("#street-streets label", timeout=20000)
    page.wait_for_timeout(3000)  # the basemap tiles
    page.screenshot(path=str(screenshots / "chief_2_page_390x844.png"))
    page.screenshot(path=str(screenshots / "chief_2_page_390x844_full.png"), full_page=True)

    rows = page.locator("#street-streets label").all_inner_texts()
    names = [r.split("\n")[0].split("30天")[0].split("上次")[0].strip() for r in rows]
    # seed: 解放街 patrolled 1 day ago, 熟溪路 5, 壶山路 20; the other three never
    assert set(names[:3]) == {"温泉路", "武阳路", "永康街"} and all("30天以上未巡查" in r for r in rows[:3])
    assert names[3:] == ["壶山路", "熟溪路", "解放街"]
    assert "20天前" in rows[3] and "5天前" in rows[4] and "昨天" in rows[5]

    page.locator("#street-streets label", has_text="壶山路").click()
    page.wait_for_function(
        "(z) => { const m = document.querySelector('#street-map .js-plotly-plot')._fullLayout.map;"
        " return m.zoom > z + 0.3; }",
        arg=before["zoom"],
        timeout=20000,
    )
    page.wait_for_timeout(2500)
    page.screenshot(path=str(screenshots / "chief_3_tapped_street_390x844.png"))
    after = map_state(page, "street-map")
    xmin, ymin, xmax, ymax = _extent("壶山路")
    assert after["center"]["lon"] == pytest.approx((xmin + xmax) / 2, abs=1e-4)
    assert after["center"]["lat"] == pytest.approx((ymin + ymax) / 2, abs=1e-4)
    halo = [t for t in after["traces"] if t["meta"] and t["meta"]["layer"] == "_selected"]
    assert len(halo) == 1 and halo[0]["n"] >= 2  # the tapped street is drawn, under its patrol colour
    assert page.locator("#street-streets label[aria-selected='true']").inner_text().startswith("壶山路")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not failures and not page.console_errors


def test_today_is_drawn_as_a_partial_day(page_at, seeded) -> None:
    page = page_at("/street/JL001", user="chief1", **PHONE)
    page.wait_for_selector("#street-trend .js-plotly-plot", timeout=20000)
    page.wait_for_function(
        "() => document.querySelector('#street-trend .js-plotly-plot')._fullData.length >= 3", timeout=20000
    )
    traces = page.evaluate(
        """() => document.querySelector('#street-trend .js-plotly-plot')._fullData.map(t => ({
               name: t.name, n: t.x.length, x: Array.from(t.x).map(String), symbol: t.marker && t.marker.symbol,
               text: t.text, dash: t.line && t.line.dash, mode: t.mode}))"""
    )
    whole, partial = traces[0], traces[-1]
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    assert whole["n"] == 6 and not any(x.startswith(today) for x in whole["x"])  # today is not a day of 0 %
    assert partial["n"] == 1 and partial["x"][0].startswith(today) and partial["symbol"] == "circle-open"
    assert re.fullmatch(r"今日截至 \d\d:\d\d", partial["name"])
    assert traces[1]["dash"] == "dot"  # the line into today is dotted


def test_case_cards_open_on_a_tap_and_follow_the_deadline(page_at, seeded, screenshots) -> None:
    page = page_at("/street/JL001", user="chief1", **PHONE)
    page.wait_for_selector("#street-cases .case-card summary", timeout=20000)
    dues = page.locator("#street-cases .case-due").all_inner_texts()
    stamps = [re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", d) for d in dues]
    dated = [m.group(0) for m in stamps if m]
    assert dated and dated == sorted(dated)  # the nearest deadline first, shown with the year
    assert all(m for m in stamps[: len(dated)])  # cards without a deadline come last
    card = page.locator("#street-cases .case-card").first
    assert card.get_attribute("open") is None
    card.locator("summary").scroll_into_view_if_needed()
    card.locator("summary").click()
    page.wait_for_selector("#street-cases .case-card[open] .case-details", timeout=5000)
    details = card.locator(".case-details").inner_text()
    assert "案件编号" in details and "办理期限" in details and re.search(r"上报\s*\d{4}-\d\d-\d\d", details)
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshots / "chief_4_tapped_case_390x844.png"))
    number = page.locator("#street-cases .case-card .case-no").first.inner_text()
    with get_engine().connect() as conn:
        nearest = conn.execute(
            text(
                """SELECT c.case_number FROM cases c JOIN chief_segments cs ON cs.segment_id = c.segment_id
                   JOIN street_chiefs s ON s.id = cs.chief_id WHERE s.code = 'JL001' AND c.closed_at IS NULL
                   ORDER BY c.due_at NULLS LAST, c.received_at LIMIT 1"""
            )
        ).scalar_one()
    assert number == nearest


def test_the_home_page_works_on_a_phone_with_the_users_own_link_first(page_at, seeded, screenshots) -> None:
    page = page_at("/", user="chief1", **PHONE)
    page.wait_for_selector("#home-chiefs .chip", timeout=20000)
    wait_for_squad_areas(page, 1)
    page.wait_for_timeout(3000)  # the basemap's other tiles
    page.screenshot(path=str(screenshots / "home_390x844.png"))
    page.screenshot(path=str(screenshots / "home_390x844_full.png"), full_page=True)
    columns = page.evaluate("getComputedStyle(document.querySelector('.home-cols')).gridTemplateColumns")
    cards = page.evaluate("getComputedStyle(document.querySelector('.view-cards')).gridTemplateColumns")
    assert len(columns.split()) == 1 and len(cards.split()) == 1  # one column at 390 px
    mine = page.locator("#home-mine")
    assert mine.get_attribute("href") == "/street/JL001" and "JL001" in mine.inner_text()
    top = page.evaluate("document.querySelector('#home-mine').getBoundingClientRect().bottom")
    assert top <= 844 / 2  # on the first screen, above everything else
    first_card = page.evaluate("document.querySelector('.view-card').getBoundingClientRect().top")
    assert top <= first_card
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    mine.click()
    page.wait_for_url("**/street/JL001", timeout=20000)

    wide = page_at("/", user="admin")
    wide.wait_for_selector("#home-chiefs .chip", timeout=20000)
    wait_for_squad_areas(wide, 13)
    wide.wait_for_timeout(3000)
    wide.screenshot(path=str(screenshots / "home_1920x1080.png"))
    assert len(wide.evaluate("getComputedStyle(document.querySelector('.home-cols')).gridTemplateColumns").split()) == 2
    assert wide.locator("#home-mine").count() == 0  # an admin has no page of their own
