"""Brute force: failed logins lock the account and the client address for a while, shared by every worker."""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import Engine, text

from dashboard.access.client import client_address
from geo.settings import get_settings
from tests.dashboard.conftest import login

LOCKED = "登录失败次数过多"


def _actions(engine: Engine, action: str) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT username, target, remote_addr FROM audit_log WHERE action = :a ORDER BY id"), {"a": action}
        ).all()


def _from(address: str, **headers: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}, "headers": headers}


def test_forty_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(client, auth_db: Engine) -> None:
    statuses = [login(client, "admin", f"guess-{n:04d}").status_code for n in range(40)]
    assert statuses[:4] == [401] * 4 and set(statuses[4:]) == {429}  # the 5th failure locks (default 5)
    right = login(client, "admin")
    wrong = login(client, "admin", "guess-9999")
    assert right.status_code == wrong.status_code == 429
    assert LOCKED in right.get_data(as_text=True)
    assert right.get_data(as_text=True) == wrong.get_data(as_text=True)  # nothing says the password was right
    assert client.get("/_dash-layout").status_code == 401
    assert len(_actions(auth_db, "login_failed")) == 5  # refused attempts are not checked at all
    assert _actions(auth_db, "login_locked") == [("admin", "account", "127.0.0.1")]
    assert len(_actions(auth_db, "login_blocked")) == 37
    # another account from another address is not affected
    other = client.application.test_client()
    assert login(other, "leader3", **_from("10.1.1.1")).status_code == 302


def test_the_lock_ends_after_its_time_and_a_good_login_resets_the_count(client, auth_db: Engine) -> None:
    for n in range(5):
        login(client, "admin", f"guess-{n}")
    assert login(client, "admin").status_code == 429
    with auth_db.begin() as conn:  # fifteen minutes later
        conn.execute(text("UPDATE login_locks SET locked_until = now() - interval '1 second'"))
        conn.execute(text("UPDATE login_failures SET ts = ts - interval '16 minutes'"))
    assert login(client, "admin").status_code == 302
    client.get("/logout")
    for n in range(4):  # four more failures after a good login: still under the limit
        assert login(client, "admin", f"again-{n}").status_code == 401
    assert login(client, "admin").status_code == 302


def test_the_lock_is_shared_by_every_worker(auth_db: Engine) -> None:
    from dashboard.app import create_app

    worker_a, worker_b = (create_app().server.test_client() for _ in range(2))
    for n in range(5):
        login(worker_a, "leader3", f"guess-{n}")
    assert login(worker_b, "leader3").status_code == 429


def test_many_accounts_tried_from_one_address_lock_the_address(client, auth_db: Engine, monkeypatch) -> None:
    monkeypatch.setenv("EGIS_LOGIN_MAX_FAILURES_PER_ADDRESS", "6")
    get_settings.cache_clear()
    attacker = _from("203.0.113.9", **{"X-Forwarded-For": "198.51.100.1"})  # a header anyone can write
    for n in range(6):
        assert login(client, f"user{n}", "guess", **attacker).status_code in (401, 429)
    assert login(client, "admin", **attacker).status_code == 429
    spoofed = _from("203.0.113.9", **{"X-Forwarded-For": "198.51.100.2"})
    assert login(client, "admin", **spoofed).status_code == 429  # the header does not get round the lock
    assert _actions(auth_db, "login_locked") == [("user5", "address", "203.0.113.9")]
    assert {row[2] for row in _actions(auth_db, "login_failed")} == {"203.0.113.9"}  # the header is not believed
    assert login(client, "admin", **_from("192.0.2.7")).status_code == 302  # other addresses still log in


def test_behind_a_trusted_proxy_the_forwarded_client_address_counts(client, auth_db: Engine, monkeypatch) -> None:
    monkeypatch.setenv("EGIS_TRUSTED_PROXIES", "10.0.0.0/24")
    monkeypatch.setenv("EGIS_LOGIN_MAX_FAILURES_PER_ADDRESS", "3")
    get_settings.cache_clear()
    for n in range(3):
        login(client, f"user{n}", "guess", **_from("10.0.0.5", **{"X-Forwarded-For": "198.51.100.7"}))
    assert {row[2] for row in _actions(auth_db, "login_failed")} == {"198.51.100.7"}
    # the proxy itself is not locked: another client behind it still logs in
    assert login(client, "admin", **_from("10.0.0.5", **{"X-Forwarded-For": "198.51.100.8"})).status_code == 302
    assert login(client, "admin", **_from("10.0.0.5", **{"X-Forwarded-For": "198.51.100.7"})).status_code == 429


TRUSTED = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(
    "remote,header,trusted,expected",
    [
        ("203.0.113.9", "1.2.3.4", (), "203.0.113.9"),  # no trusted proxy: the header is ignored
        ("203.0.113.9", "1.2.3.4", TRUSTED, "203.0.113.9"),  # not from a trusted proxy: ignored
        ("10.0.0.1", "198.51.100.7", TRUSTED, "198.51.100.7"),
        ("10.0.0.1", "1.2.3.4, 198.51.100.7", TRUSTED, "198.51.100.7"),  # a forged hop left of the real one
        ("10.0.0.1", "198.51.100.7, 10.0.0.2", TRUSTED, "198.51.100.7"),  # two proxies in a row
        ("10.0.0.1", "10.0.0.3, 10.0.0.2", TRUSTED, "10.0.0.3"),  # all proxies: the leftmost known
        ("10.0.0.1", "not-an-ip", TRUSTED, "10.0.0.1"),
        ("10.0.0.1", "", TRUSTED, "10.0.0.1"),
        ("::1", "2001:db8::5", TRUSTED, "2001:db8::5"),
        (None, "1.2.3.4", TRUSTED, "unknown"),
    ],
)
def test_client_address(remote, header, trusted, expected) -> None:
    assert client_address(remote, header, trusted) == expected


def test_a_bad_trusted_proxy_setting_is_a_clear_error(monkeypatch) -> None:
    from pydantic import ValidationError

    from geo.settings import Settings

    monkeypatch.setenv("EGIS_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local")
    with pytest.raises(ValidationError, match=r"'proxy\.local' is not an IP address or CIDR block"):
        Settings()
