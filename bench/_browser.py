"""Headless Debian Chromium for the browser tests and the dashboard benchmark: where it is, how it is
started, a free port to serve the app on, and picking a Dash dropdown option the way a user does."""

from __future__ import annotations

import socket

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
