"""The ingest API served over real HTTP (werkzeug, threaded) on a free port, on a fresh schema with the sample world."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from werkzeug.serving import make_server

from geo.settings import get_settings


@dataclass
class Api:
    """A running API: its base URL, the schema's engine, a token for gps and cases."""

    url: str
    engine: Engine
    db_url: URL
    token: str

    def post(self, path: str, body: dict | str, token: str | None = None, **headers: str) -> requests.Response:
        """POST JSON (a dict) or CSV (a str) with the bearer token."""
        headers = {"Authorization": f"Bearer {token or self.token}", **headers}
        if isinstance(body, str):
            headers.setdefault("Content-Type", "text/csv")
            return requests.post(self.url + path, data=body.encode(), headers=headers, timeout=60)
        return requests.post(self.url + path, json=body, headers=headers, timeout=60)


def serve(db_url: URL, monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[str]:
    """Serve a new app on a free port with ``DATABASE_URL`` = ``db_url`` (and ``env``); yield its base URL."""
    monkeypatch.setenv("DATABASE_URL", db_url.render_as_string(hide_password=False))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    from etl.api.app import create_app

    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        get_settings.cache_clear()


@pytest.fixture
def api(world_engine: Engine, schema_url: URL, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The API on a fresh schema with the sample world (streets S1–S6, squads ZD01/ZD02)."""
    from etl.api.tokens import create_token

    for url in serve(schema_url, monkeypatch):
        yield Api(url, world_engine, schema_url, create_token(world_engine, "vendor-a", ["gps", "cases"]))


def at(minutes: float, base: dt.datetime | None = None) -> str:
    """An ISO 8601 time with offset, ``minutes`` after a fixed recent base (an hour ago, Beijing time)."""
    tz = dt.timezone(dt.timedelta(hours=8))
    base = base or BASE
    return (base + dt.timedelta(minutes=minutes)).astimezone(tz).isoformat()


BASE = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0, second=0)
