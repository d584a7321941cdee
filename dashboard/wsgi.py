"""Production entry point: ``gunicorn -w 4 -b 127.0.0.1:8050 dashboard.wsgi:server``."""

from __future__ import annotations

from dashboard.app import create_app

app = create_app()
server = app.server
