"""Who may see what, in the real browser: each role's pages, requests for another squad, masking, the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bench._seed import COMPLAINANT_NAME, COMPLAINANT_PHONE, PARTY_NAME, PARTY_PHONE
from geo.db import get_engine
from tests.dashboard.conftest import callback_bodies, watch_callbacks

pytestmark = pytest.mark.browser
PLANTED = (PARTY_NAME, PARTY_PHONE, COMPLAINANT_NAME, COMPLAINANT_PHONE)


def _count(page) -> int:
    text_ = page.inner_text("#cases-count")
    return int(text_.split("共 ")[1].split(" 件")[0]) if "共 " in text_ else 0


def _settle(page) -> None:
    page.wait_for_function(
        "() => document.querySelector('#cases-count') && document.querySelector('#cases-count').innerText.length > 0",
        timeout=20000,
    )
    page.wait_for_timeout(1500)


def test_a_street_chief_sees_only_their_streets_cases_masked(page_at) -> None:
    page = page_at("/cases", user="chief1")
    bodies = callback_bodies(page)
    failures = watch_callbacks(page)
    page.reload()
    _settle(page)
    shown = _count(page)
    with get_engine().connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    assert 0 < shown < total
    assert bodies and not any(value in body for body in bodies for value in PLANTED)
    assert not failures


def test_a_squad_leader_asking_for_another_squad_gets_nothing_of_it(page_at, seeded) -> None:
    page = page_at("/squad/ZD01", user="leader2")  # leader of ZD02 opens ZD01's page by hand
    bodies = callback_bodies(page)
    page.reload()
    page.wait_for_timeout(6000)
    with get_engine().connect() as conn:
        numbers = conn.execute(text("SELECT case_number FROM cases WHERE squad_code = 'ZD01'")).scalars().all()
    assert numbers
    assert bodies and not any(number in body for body in bodies for number in numbers)
    assert not any(value in body for body in bodies for value in PLANTED)


def test_a_viewer_gets_aggregates_but_no_case_rows(page_at) -> None:
    page = page_at("/cases", user="viewer")
    bodies = callback_bodies(page)
    page.reload()
    page.wait_for_timeout(5000)
    with get_engine().connect() as conn:
        numbers = conn.execute(text("SELECT case_number FROM cases LIMIT 200")).scalars().all()
    assert bodies and not any(number in body for body in bodies for number in numbers)


def test_the_wall_screen_cannot_open_other_pages(page_at, dash_server) -> None:
    page = page_at("/wall")
    page.goto(dash_server + "/cases")
    assert page.url.endswith("/wall")


def test_views_of_personal_data_are_audited(page_at) -> None:
    page = page_at("/cases", user="admin")
    page.reload()
    _settle(page)
    with get_engine().connect() as conn:
        views = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE username = 'admin' AND action = 'view_personal_data'")
        ).scalar_one()
    assert views > 0
