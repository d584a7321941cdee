"""The filter values of a page turned into LayerParams (no browser, no database)."""

from __future__ import annotations

import datetime as dt

from dashboard.filters import params
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
