"""The wall and the squad page say so when due times were counted in a year whose holidays are not configured."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from geo.region import Region, get_region
from tests.dashboard.conftest import wait_for_traces

pytestmark = pytest.mark.browser


def test_wall_and_squad_page_show_the_missing_calendar_year(
    page_at, seeded, screenshots, region_lacking: Callable[..., Region], monkeypatch: pytest.MonkeyPatch
) -> None:
    year = dt.datetime.now(get_region().tz).year  # the seed's cases are this year's and last year's
    monkeypatch.setenv("EGIS_DASH_CACHE_S", "0")  # no layer rendered with the full calendar is reused
    region_lacking(year)
    note = f"{year}年节假日安排尚未录入，到期时间按周末计算"

    wall = page_at("/wall")
    wait_for_traces(wall, "wall-map", "response_times")
    warning = wall.locator("#wall-warning")
    assert note in warning.inner_text() and warning.is_visible()
    wall.screenshot(path=str(screenshots / "wall_calendar_note.png"))

    squad = page_at("/squad/ZD01")
    wait_for_traces(squad, "squad-map", "jurisdictions")
    notes = squad.locator("#squad-notes")
    notes.get_by_text(note).wait_for(timeout=20000)
    assert notes.get_by_text(note).is_visible()


def test_no_note_when_the_calendar_lists_the_year(page_at, seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EGIS_DASH_CACHE_S", "0")
    wall = page_at("/wall")
    wait_for_traces(wall, "wall-map", "response_times")
    assert "节假日安排尚未录入" not in wall.locator("#wall-warning").inner_text()
    squad = page_at("/squad/ZD01")
    wait_for_traces(squad, "squad-map", "jurisdictions")
    assert "节假日安排尚未录入" not in squad.locator("#squad-notes").inner_text()
