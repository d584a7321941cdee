"""The filter values of a page turned into LayerParams (no browser, no database)."""

from __future__ import annotations

import datetime as dt

from dashboard.filters import (
    custom_range,
    from_query,
    params,
    range_value,
    window_dates,
    window_label,
    window_options,
)
from geo.region import get_region
from layers.base import Scope


def test_the_window_end_is_a_date_its_iso_text_or_today() -> None:
    """Pages keep the window's end in a dcc.Store as ISO text; one place parses it."""
    as_text = params(window="30", end="2025-03-31", scope=Scope(), squads=("ZD01",))
    as_date = params(window="30", end=dt.date(2025, 3, 31), scope=Scope(), squads=("ZD01",))
    assert as_text == as_date
    assert (as_text.start, as_text.end) == (dt.date(2025, 3, 2), dt.date(2025, 3, 31))
    today = dt.datetime.now(get_region().tz).date()
    assert params(window="7", end="", scope=Scope()).end == params(window="7", end=None, scope=Scope()).end == today
    assert params(window="ytd", end="2025-03-31", scope=Scope()).start == dt.date(2025, 1, 1)


def test_a_custom_range_is_a_window_value_every_page_takes() -> None:

    value = range_value(dt.date(2025, 12, 1), "2026-11-30")
    assert value == "2025-12-01~2026-11-30"
    assert window_dates(value, dt.date(2020, 1, 1)) == (dt.date(2025, 12, 1), dt.date(2026, 11, 30))
    assert custom_range("2026-11-30~2025-12-01") == (dt.date(2025, 12, 1), dt.date(2026, 11, 30))  # swapped back
    assert custom_range("2026-13-01~2026-12-01") is None and custom_range("30") is None
    assert window_label(value) == "2025-12-01 至 2026-11-30" and window_label("30") == "近30天"
    assert window_label("365", {"7": "近7天", "30": "近30天"}) == "近7天"  # a page's own presets
    assert {"label": "2025-12-01 至 2026-11-30", "value": value} in window_options(value)
    assert from_query({"window": "bogus", "category": "占道经营,违法建设", "q": " 解放街 ", "squad": ""}) == {
        "category": ["占道经营", "违法建设"],
        "q": "解放街",
    }
    assert from_query({"window": value})["window"] == value
