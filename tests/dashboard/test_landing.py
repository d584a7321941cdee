"""After login each user lands on their own page; an explicit, safe ``next`` still wins."""

from __future__ import annotations

from sqlalchemy import Engine

from dashboard.access.store import add_user
from tests.dashboard.conftest import AUTH_PASSWORD, login


def test_a_chief_lands_on_their_street_page_and_a_leader_on_their_squad(client, auth_db: Engine) -> None:
    add_user(auth_db, "jlz01001", AUTH_PASSWORD, "street_chief", chief_code="JLZ01001", squad_code="ZD01")
    landed = login(client, "JLZ01001", next_="")
    assert landed.status_code == 302 and landed.headers["Location"] == "/street/JLZ01001"
    client.get("/logout")
    assert login(client, "leader3", next_="").headers["Location"] == "/squad/ZD03"
    client.get("/logout")
    assert login(client, "admin", next_="").headers["Location"] == "/"


def test_an_explicit_safe_next_wins_and_an_unsafe_one_falls_back_to_the_landing_page(client, auth_db: Engine) -> None:
    add_user(auth_db, "chief9", AUTH_PASSWORD, "street_chief", chief_code="JL009", squad_code="ZD03")
    assert login(client, "chief9", next_="/cases?q=1").headers["Location"] == "/cases?q=1"
    client.get("/logout")
    assert login(client, "chief9", next_="//evil.example").headers["Location"] == "/street/JL009"
    client.get("/logout")
    # the guard's redirect carries the asked-for page in next: that page opens, not the landing page
    asked = client.get("/squad/ZD03")
    assert asked.headers["Location"].startswith("/login?next=/squad/ZD03")
    assert login(client, "leader3", next_="/squad/ZD03?window=30").headers["Location"] == "/squad/ZD03?window=30"
