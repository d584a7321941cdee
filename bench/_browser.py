"""Headless Debian Chromium for the browser tests and the dashboard benchmark: where it is, how it is
started, a free port to serve the app on, logging in (browser and plain HTTP), and picking a Dash
dropdown option the way a user does."""

from __future__ import annotations

import re
import socket

import requests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def choose(page, dropdown_id: str, label: str) -> None:
    """Pick ``label`` in the Dash dropdown ``dropdown_id`` the way a user does (open, click, close)."""
    page.click(f"#{dropdown_id}")
    page.get_by_role("option", name=label, exact=True).click()
    page.keyboard.press("Escape")


def sign_in(page, base: str, user: str, password: str = "", kiosk_token: str = "") -> None:
    """Log ``page`` in through the login form as ``user``, or as a wall screen with a kiosk token."""
    if kiosk_token:
        page.goto(f"{base}/kiosk?token={kiosk_token}")
        return
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if "/login" in page.url:
        raise RuntimeError(f"login as {user} failed")


def http_login(base: str, user: str = "", password: str = "", kiosk_token: str = "") -> requests.Session:
    """A plain HTTP client logged in through the login form (with its CSRF field), or by a kiosk token."""
    client = requests.Session()
    if kiosk_token:
        response = client.get(f"{base}/kiosk", params={"token": kiosk_token}, allow_redirects=False)
        if response.status_code != 302:
            raise RuntimeError(f"kiosk login failed: {response.status_code}")
        return client
    form = client.get(f"{base}/login").text
    csrf = re.search(r'name="csrf" value="([^"]*)"', form)
    data = {"username": user, "password": password, "csrf": csrf.group(1) if csrf else ""}
    response = client.post(f"{base}/login", data=data, allow_redirects=False)
    if response.status_code != 302 or "/login" in response.headers["Location"]:
        raise RuntimeError(f"login as {user} failed")
    return client
