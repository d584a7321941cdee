"""WSGI entry of the ingest API for gunicorn: ``gunicorn etl.api.wsgi:app``."""

from __future__ import annotations

from etl.api.app import create_app

app = create_app()
