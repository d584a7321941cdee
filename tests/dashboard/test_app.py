"""The dashboard shell serves its home page with the county from PostGIS."""

from __future__ import annotations

import json

from sqlalchemy.engine import URL

from dashboard.app import create_app


def test_home_page_serves_in_chinese(test_url: URL) -> None:
    app = create_app()
    client = app.server.test_client()
    page = client.get("/")
    assert page.status_code == 200
    assert "首页" in page.get_data(as_text=True)
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    assert json.loads(layout.get_data(as_text=True))
