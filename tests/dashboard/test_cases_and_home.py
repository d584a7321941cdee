"""The case list (search, review queue, map of the selection) and the home page's links."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from geo.case_review import review_condition
from geo.db import get_engine
from tests.dashboard.conftest import callback_bodies, map_state, watch_callbacks

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


# Three of the newest cases made to need review for this test (restored afterwards): what each
# becomes, and the reason the queue must give.
REVIEW_CHANGES = (
    ("未匹配", None, [], "地址未匹配（未找到匹配的地名）"),
    ("乡镇", 0.4, [], "仅定位到乡镇；匹配分数低（0.40）"),
    ("门牌", 0.95, ["coord_swapped"], "经纬度颠倒"),
)
WINDOW_30_DAYS = """received_at >= date_trunc('day', CAST(:n AS timestamptz) AT TIME ZONE 'Asia/Shanghai')
                                     AT TIME ZONE 'Asia/Shanghai' - interval '29 days'"""


@pytest.fixture
def cases_to_review(seeded):
    """Case number → expected reason of three newest located cases changed to need review; restored after."""
    with get_engine().begin() as conn:
        saved = conn.execute(
            text(
                """SELECT id, case_number, geocode_level, geocode_score, flags, attrs FROM cases
                   WHERE geocode_level = '门牌' ORDER BY received_at DESC LIMIT 3"""
            )
        ).all()
        for row, (level, score, flags, _) in zip(saved, REVIEW_CHANGES, strict=True):
            conn.execute(
                text(
                    """UPDATE cases SET geocode_level = :level, geocode_score = :score, flags = :flags,
                       attrs = attrs || '{"geocode_reason": "未找到匹配的地名"}' WHERE id = :id"""
                ),
                dict(id=row.id, level=level, score=score, flags=flags),
            )
    try:
        yield {row.case_number: change[3] for row, change in zip(saved, REVIEW_CHANGES, strict=True)}
    finally:
        with get_engine().begin() as conn:
            for row in saved:
                conn.execute(
                    text(
                        """UPDATE cases SET geocode_level = :level, geocode_score = :score, flags = :flags,
                           attrs = CAST(:attrs AS jsonb) WHERE id = :id"""
                    ),
                    dict(
                        id=row.id,
                        level=row.geocode_level,
                        score=row.geocode_score,
                        flags=row.flags,
                        attrs=json.dumps(row.attrs),
                    ),
                )


def test_review_queue_lists_every_case_to_check_worst_first(page_at, cases_to_review) -> None:
    """The review desk: unmatched first, then the other cases a person should check (coarse or
    low-score geocodes, flags), each with a reason that fits its level, score and flags; the count
    is the true count of the window (before, the unmatched-only assertion failed on this queue)."""
    page = page_at("/cases")
    page.wait_for_selector("#cases-grid .ag-row", timeout=20000)
    page.get_by_text("待核查地址", exact=True).click()
    page.wait_for_function(
        """() => document.querySelector('#cases-count').innerText.includes('待核查地址')
                 && [...document.querySelectorAll("#cases-grid .ag-row [col-id='review_reason']")]
                        .every((cell) => cell.innerText.trim() !== '')""",
        timeout=20000,
    )
    page.wait_for_timeout(800)
    grid = page.locator("#cases-grid .ag-center-cols-container .ag-row").evaluate_all(
        """rows => rows.map(r => [Number(r.getAttribute('row-index')),
              ...['case_number', 'geocode_level', 'review_reason'].map(
                  c => r.querySelector(`[col-id='${c}']`).innerText.trim())])"""
    )
    rows = [row[1:] for row in sorted(grid)]
    count = int(page.inner_text("#cases-count").split("待核查地址 共 ")[1].split(" 件")[0])
    with get_engine().connect() as conn:
        newest = conn.execute(text("SELECT max(received_at) FROM cases")).scalar_one()
        expected = conn.execute(
            text(f"SELECT count(*) FROM cases c WHERE {review_condition('c')} AND {WINDOW_30_DAYS}"), {"n": newest}
        ).scalar_one()
    assert count == expected == len(rows) > len(cases_to_review)  # the seed's own unmatched cases too
    levels = [level for _, level, _ in rows]
    assert levels[0] == "未匹配" and levels == sorted(levels, key=lambda level: level != "未匹配")  # unmatched first
    for _, level, reason in rows:
        if level == "未匹配":
            assert reason.startswith("地址未匹配")
        elif level in ("乡镇", "村社区"):
            assert reason.startswith(f"仅定位到{level}")
        else:
            assert "未匹配" not in reason and "仅定位到" not in reason and reason
    assert {number: reason for number, _, reason in rows if number in cases_to_review} == cases_to_review
    assert [n for n, _, _ in rows if n in cases_to_review][-2:] == list(cases_to_review)[1:]  # 0.40 before 0.95


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
    assert page.url.split("?")[0].endswith("/squad/ZD01")  # the page writes its filters into the query string


def _component(tree, component_id: str):
    """The component ``component_id`` in a Dash layout JSON ``tree`` (None when absent)."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        values = tree.values()
    elif isinstance(tree, list):
        values = tree
    else:
        return None
    for value in values:
        found = _component(value, component_id)
        if found is not None:
            return found
    return None


def test_the_case_list_page_arrives_with_its_first_map_drawn(page_at, seeded) -> None:
    page = page_at("/cases")
    bodies = callback_bodies(page)
    page.reload()
    page.wait_for_selector("#cases-grid .ag-row", timeout=20000)
    graphs = [_component(json.loads(b), "cases-map") for b in bodies]
    first = next(g for g in graphs if g is not None)  # the page itself, before any callback of the map
    located = page.evaluate(
        """() => { let n = 0; dash_ag_grid.getApi('cases-grid').forEachNode(r => { n += r.data.lon != null; });
            return n; }"""
    )
    points = sum(len(t.get("customdata") or []) for t in first["props"]["figure"]["data"])  # a case id per point
    assert located > 0 and points == located  # every listed case with a position, before the grid's round trip
    assert not page.console_errors


def test_the_case_map_keeps_its_first_points_while_the_grid_loads(page_at, seeded) -> None:
    """Once drawn, the first points stay: the map's callback does not redraw it empty before the grid
    has reported its rows (it used to, on its initial call, so the map blinked empty for a second)."""
    page = page_at("/cases")
    page.add_init_script(
        """window.__casePoints = [];
        setInterval(() => {
            const gd = document.querySelector('#cases-map .js-plotly-plot');
            if (!gd || !gd._fullData) return;
            const n = gd._fullData.reduce((a, t) => a + ((t.lon || []).length), 0);
            const seen = window.__casePoints;
            if (!seen.length || seen[seen.length - 1] !== n) seen.push(n);
        }, 10);"""
    )
    page.reload()
    page.wait_for_selector("#cases-grid .ag-row", timeout=20000)
    page.wait_for_timeout(1500)  # past the grid's first report of its rows
    counts = page.evaluate("() => window.__casePoints")
    assert counts and counts[0] > 0, counts  # the first map drawn already has its points
    assert all(n > 0 for n in counts), counts  # and never goes blank
    assert not page.console_errors
