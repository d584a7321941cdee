"""The case desk as an admin uses it: the whole review queue page by page, search by number in any window,
full-width search, fixing an address on the map, and the desk conventions (custom range, filters in the
URL, the data stamp) on every desk page."""

from __future__ import annotations

import datetime as dt
import inspect
import io
import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest
from sqlalchemy import text

from geo.case_review import review_condition
from geo.db import get_engine
from tests.dashboard.conftest import map_state, watch_callbacks

pytestmark = pytest.mark.browser


def _set_page_rows(monkeypatch, dash_app, rows: int) -> None:
    """Page size ``rows`` for the cases page's layout and for its listing callback.

    In a full run the app is built more than once (e.g. two app instances in the lockout tests), and
    Dash's pages plugin re-executes the page module each time: the layout comes from the module now in
    ``sys.modules``, while the registered callback keeps the globals of the module it was defined in.
    """
    for name, module in list(sys.modules.items()):
        if name.endswith("pages.cases") and hasattr(module, "PAGE_ROWS"):
            monkeypatch.setattr(module, "PAGE_ROWS", rows)
    for key, entry in dash_app.callback_map.items():
        if "cases-count.children" in key:
            monkeypatch.setitem(inspect.unwrap(entry["callback"]).__globals__, "PAGE_ROWS", rows)


def _count(page) -> int:
    return int(page.inner_text("#cases-count").split("共 ")[1].split(" 件")[0])


def _wait_count_change(page, before: str) -> None:
    page.wait_for_function("(s) => document.querySelector('#cases-count').innerText !== s", arg=before, timeout=30000)
    page.wait_for_timeout(800)


def _numbers(page) -> list[str]:
    return page.locator("#cases-grid .ag-center-cols-container [col-id='case_number']").all_inner_texts()


def _review_total(start: dt.date, end: dt.date) -> int:
    with get_engine().connect() as conn:
        return conn.execute(
            text(
                f"""SELECT count(*) FROM cases c WHERE {review_condition("c")}
                    AND (received_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN :s AND :e"""
            ),
            {"s": start, "e": end},
        ).scalar_one()


def test_the_review_queue_shows_its_true_count_pages_through_all_and_exports_the_reason(
    page_at, dash_app, seeded, screenshots, monkeypatch
) -> None:
    _set_page_rows(monkeypatch, dash_app, 4)  # the seed's queue spans several pages of four
    end = seeded.reference.date()
    start = end - dt.timedelta(days=364)
    page = page_at(f"/cases?tab=review&window={start}~{end}")  # a bookmarked view: tab and custom range
    failures = watch_callbacks(page)
    page.wait_for_selector("#cases-grid .ag-row", timeout=30000)
    page.wait_for_timeout(800)
    total = _review_total(start, end)
    assert total > 8
    text_shown = page.inner_text("#cases-count")
    assert f"在 {start} 至 {end} 内 · 待核查地址 共 {total} 件" in text_shown and "第 1/" in text_shown
    assert page.locator("#cases-tabs .tab--selected").inner_text() == "待核查地址"
    seen: list[str] = []
    pages = -(-total // 4)
    for number in range(pages):
        shown = _numbers(page)
        seen += shown
        if number < pages - 1:
            before = page.inner_text("#cases-count")
            page.click("#cases-next")
            _wait_count_change(page, before)
            page.wait_for_function(
                """(old) => JSON.stringify([...document.querySelectorAll(
                       "#cases-grid .ag-center-cols-container [col-id='case_number']")].map(c => c.innerText))
                       !== JSON.stringify(old)""",
                arg=shown,
                timeout=15000,
            )
    assert len(seen) == len(set(seen)) == total  # every case of the queue, each once
    page.screenshot(path=str(screenshots / "cases_review_paged_1920x1080.png"))
    with page.expect_download() as download:
        page.click("#cases-export")
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert "核查原因" in header and sheet.max_row - 1 == total
    reasons = [row[header.index("核查原因")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(reasons)
    assert not failures and not page.console_errors


def test_search_finds_a_case_number_in_any_window_and_names_the_window_otherwise(page_at, seeded) -> None:
    with get_engine().connect() as conn:
        oldest = conn.execute(text("SELECT case_number, received_at FROM cases ORDER BY received_at LIMIT 1")).one()
    page = page_at("/cases?window=7")
    page.wait_for_selector("#cases-count", timeout=30000)
    before = page.inner_text("#cases-count")
    page.fill("#cases-search", oldest.case_number.lower())  # as typed, in lower case
    page.press("#cases-search", "Enter")
    _wait_count_change(page, before)
    assert f"案件编号 {oldest.case_number}（不限时间范围）" in page.inner_text("#cases-count")
    assert _numbers(page) == [oldest.case_number]
    before = page.inner_text("#cases-count")
    page.fill("#cases-search", "解放街")
    page.press("#cases-search", "Enter")
    _wait_count_change(page, before)
    said = re.match(r"在 (\S+) 至 (\S+) 内共 (\d+) 件", page.inner_text("#cases-count"))
    assert said, page.inner_text("#cases-count")  # the window the search used, named
    start, end = (dt.date.fromisoformat(said.group(i)) for i in (1, 2))
    assert (end - start).days == 6 and int(said.group(3)) == len(_numbers(page))
    assert parse_qs(urlparse(page.url).query) == {"tab": ["all"], "q": ["解放街"], "window": ["7"]}


def test_full_width_search_finds_half_width_text_and_the_map_zooms_to_the_results(page_at, seeded) -> None:
    with get_engine().connect() as conn:
        target = conn.execute(
            text(
                r"""SELECT address FROM cases WHERE address ~ '[0-9]+号' AND geom IS NOT NULL
                    AND received_at > now() - interval '300 days' ORDER BY received_at DESC LIMIT 1"""
            )
        ).scalar_one()
    wide = "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in target)
    assert wide != target
    page = page_at("/cases?window=365")
    page.wait_for_selector("#cases-grid .ag-row", timeout=30000)
    page.wait_for_timeout(1000)
    county_zoom = map_state(page, "cases-map")["zoom"]
    before = page.inner_text("#cases-count")
    page.fill("#cases-search", wide)
    page.press("#cases-search", "Enter")
    _wait_count_change(page, before)
    page.wait_for_timeout(1500)
    addresses = page.locator("#cases-grid .ag-center-cols-container [col-id='address']").all_inner_texts()
    assert addresses and all(target in a for a in addresses)
    assert map_state(page, "cases-map")["zoom"] > county_zoom + 2  # zoomed to the results


def test_an_admin_fixes_an_address_on_the_map_and_it_is_audited(page_at, seeded, screenshots) -> None:
    with get_engine().begin() as conn:
        case = conn.execute(
            text(
                f"""SELECT id, case_number, address, geocode_level, geocode_score, flags, attrs, geom, squad_code,
                           township_code, village_code, segment_id, geocode_matched
                    FROM cases c WHERE {review_condition("c")} AND address IS NOT NULL AND address <> ''
                    ORDER BY received_at DESC LIMIT 1"""
            )
        ).one()
    try:
        page = page_at(f"/cases?tab=review&q={case.case_number}&window=365")
        page.wait_for_selector("#cases-fix-panel", timeout=30000)
        page.wait_for_selector("#cases-grid .ag-row", timeout=30000)
        page.locator("#cases-grid .ag-center-cols-container .ag-row").first.click()
        page.wait_for_function(
            "(n) => document.querySelector('#cases-fix-case').innerText.includes(n)", arg=case.case_number
        )
        box = page.locator("#cases-map .js-plotly-plot").bounding_box()
        page.wait_for_timeout(1500)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(
            """() => [...document.querySelectorAll('#cases-map .js-plotly-plot')].some(
                   gd => gd.data.some(t => t.name === '地图点选位置'))""",
            timeout=15000,
        )
        page.screenshot(path=str(screenshots / "cases_fix_picked_1920x1080.png"))
        page.click("#cases-fix-place")
        page.wait_for_function(
            "(n) => document.querySelector('#cases-fix-message').innerText.includes('已修正 ' + n)",
            arg=case.case_number,
            timeout=30000,
        )
        page.screenshot(path=str(screenshots / "cases_fix_done_1920x1080.png"))
        with get_engine().connect() as conn:
            fixed = conn.execute(
                text(f"SELECT geocode_level, attrs, {review_condition('c')} AS review FROM cases c WHERE id = :id"),
                {"id": case.id},
            ).one()
            audit = conn.execute(
                text("SELECT username, detail FROM audit_log WHERE action = 'fix_address' AND target = :n"),
                {"n": case.case_number},
            ).all()
            learnt = conn.execute(text("SELECT count(*) FROM address_points WHERE case_id = :id"), {"id": case.id})
            learnt = learnt.scalar_one()
        assert fixed.geocode_level == "门牌" and fixed.attrs["geocode_source"] == "manual" and not fixed.review
        assert [a.username for a in audit] == ["admin"] and audit[0].detail["before"]["level"] == case.geocode_level
        assert learnt == 1
        assert not page.console_errors
    finally:
        with get_engine().begin() as conn:
            conn.execute(text("DELETE FROM address_points WHERE case_id = :id"), {"id": case.id})
            conn.execute(
                text(
                    """UPDATE cases SET geocode_level = :level, geocode_score = :score, flags = :flags,
                       attrs = CAST(:attrs AS jsonb), geom = :geom, squad_code = :squad, township_code = :town,
                       village_code = :village, segment_id = :segment, geocode_matched = :matched WHERE id = :id"""
                ),
                dict(
                    id=case.id,
                    level=case.geocode_level,
                    score=case.geocode_score,
                    flags=case.flags,
                    attrs=json.dumps(case.attrs),
                    geom=case.geom,
                    squad=case.squad_code,
                    town=case.township_code,
                    village=case.village_code,
                    segment=case.segment_id,
                    matched=case.geocode_matched,
                ),
            )


def test_a_squad_leader_has_no_fix_panel(page_at) -> None:
    page = page_at("/cases", user="leader1")
    page.wait_for_selector("#cases-count", timeout=30000)
    assert page.locator("#cases-fix-panel").count() == 0


@pytest.mark.parametrize(
    ("path", "user", "graph"),
    [
        ("/cases", "admin", "cases-map"),
        ("/squad/ZD01", "leader1", "squad-map"),
        ("/street/JL001", "chief1", "street-map"),
        ("/plan/ZD01", "leader1", "plan-map"),
    ],
)
def test_every_desk_page_has_the_data_stamp_and_keeps_its_filters_in_the_url(
    page_at, seeded, screenshots, path, user, graph
) -> None:
    with get_engine().connect() as conn:
        newest = conn.execute(text("SELECT max(received_at) FROM cases WHERE received_at <= now()")).scalar_one()
    stamp = f"数据截至 {newest.astimezone(dt.timezone(dt.timedelta(hours=8))):%Y-%m-%d %H:%M}"
    end = seeded.reference.date()
    start = end - dt.timedelta(days=20)
    custom = f"{start}~{end}"
    query = f"window={custom}" if path != "/plan/ZD01" else f"date={end}&shift=day"
    width, height = (390, 844) if path.startswith("/street") else (1920, 1080)
    page = page_at(f"{path}?{query}", width=width, height=height, user=user)
    page.wait_for_selector(f"#{graph}", timeout=30000)
    page.wait_for_selector(".data-stamp", timeout=30000)
    assert page.inner_text(".data-stamp") == stamp
    page.wait_for_timeout(1500)
    name = path.strip("/").replace("/", "_")
    page.screenshot(path=str(screenshots / f"desk_{name}_{width}x{height}.png"))
    restored = parse_qs(urlparse(page.url).query)
    if path == "/plan/ZD01":
        assert restored["date"] == [str(end)] and restored["shift"] == ["day"]
        return
    prefix = graph.split("-")[0]
    assert restored["window"] == [custom]  # restored from the URL, written back to it
    assert f"{start} 至 {end}" in page.inner_text(f"#{prefix}-window")
    assert page.input_value(f"#{prefix}-range") == str(start)  # Dash 4: the start input carries the id
    # Choosing a preset puts it in the URL (a view to bookmark or send).
    page.click(f"#{prefix}-window")
    page.get_by_role("option", name="近30天").click()
    page.wait_for_function("() => window.location.search.includes('window=30')", timeout=10000)
    assert not page.console_errors


def test_a_custom_range_typed_beside_the_presets_becomes_the_window(page_at, seeded, screenshots) -> None:
    page = page_at("/cases?window=30")
    page.wait_for_selector("#cases-grid .ag-row", timeout=30000)
    before = page.inner_text("#cases-count")
    end = seeded.reference.date() - dt.timedelta(days=3)
    start = end - dt.timedelta(days=9)
    page.fill("#cases-range", str(start))
    page.press("#cases-range", "Tab")
    page.fill("#cases-range-end-date", str(end))
    page.press("#cases-range-end-date", "Tab")
    page.wait_for_function(
        "(w) => new URLSearchParams(window.location.search).get('window') === w",
        arg=f"{start}~{end}",
        timeout=15000,
    )
    _wait_count_change(page, before)
    assert page.inner_text("#cases-count").startswith(f"在 {start} 至 {end} 内共 ")
    assert f"{start} 至 {end}" in page.inner_text("#cases-window")
    page.keyboard.press("Escape")
    page.screenshot(path=str(screenshots / "cases_custom_range_1920x1080.png"))
    assert not page.console_errors
