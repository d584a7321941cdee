"""DATABASE_URL handling: wrong or unreachable URLs give one clear message; status and url commands."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy.engine import URL

from geo.db import normalize_url
from geo.errors import ConfigError
from geo.settings import PROJECT_ROOT


def _run(*args: str, database_url: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT)


@pytest.mark.parametrize(
    "url,message",
    [
        ("mysql://u:p@localhost/db", "must point to PostgreSQL"),
        ("not a url", "not a valid URL"),
        ("postgresql://u:p@localhost:5432", "names no database"),
    ],
)
def test_wrong_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        normalize_url(url)


def test_url_gets_the_psycopg3_driver() -> None:
    assert normalize_url("postgresql://u:p@h:5432/d").drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    "url,message",
    [
        ("postgresql://egis:x@127.0.0.1:1/egis", "cannot connect to"),
        ("mysql://u:p@localhost/db", "must point to PostgreSQL"),
    ],
)
def test_cli_with_bad_database_url_says_what_to_do(url: str, message: str) -> None:
    result = _run("geo.db", "start", database_url=url)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_with_external_url_uses_it_and_starts_nothing(test_url: URL) -> None:
    rendered = test_url.render_as_string(hide_password=False)
    started = _run("geo.db", "start", database_url=rendered)
    assert started.returncode == 0, started.stderr
    assert "external PostGIS reachable" in started.stdout
    assert _run("geo.db", "url", database_url=rendered).stdout.strip() == rendered
    status = _run("geo.db", "status", database_url=rendered)
    assert status.returncode == 0 and "external" in status.stdout
    assert "not ours to stop" in _run("geo.db", "stop", database_url=rendered).stdout
