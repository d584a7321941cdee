"""The wall display in a real browser: loads, shows KPIs and the map, refreshes without moving the view."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import map_state, watch_callbacks
from tests.dashboard.seed import COMPLAINANT_NAME, COMPLAINANT_PHONE, PARTY_NAME, PARTY_PHONE

pytestmark = pytest.mark.browser


def test_wall_loads_with_figures_and_map(page_at, seeded, screenshots) -> None:
    page = page_at("/wall?refresh=3")
    failures = watch_callbacks(page)
    page.wait_for_selector("#wall-kpis .kpi-value", timeout=20000)
    page.wait_for_selector("#wall-map canvas.maplibregl-canvas", timeout=20000)
    page.wait_for_selector("#wall-ranking .rank-row", timeout=20000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "wall_1920x1080.png"))
    text = page.inner_text("body")
    assert "数据截至" in text
    assert "白洋中队" in text
    assert "300" in page.inner_text("#wall-kpis")  # cases this year in the seed
    assert len(page.query_selector_all("#wall-ranking .rank-row")) == 13
    assert not failures
    assert not page.console_errors
    for planted in (PARTY_NAME, PARTY_PHONE, COMPLAINANT_NAME, COMPLAINANT_PHONE):
        assert planted not in page.content()
    state = map_state(page, "wall-map")
    assert state["canvas"]
