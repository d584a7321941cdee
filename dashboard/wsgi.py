"""Production entry point: ``gunicorn -w 4 -b 127.0.0.1:8050 dashboard.wsgi:server``."""

from __future__ import annotations

from dashboard.app import create_app, warm_up

app = create_app()
server = app.server
warm_up()  # in each worker before it serves: its first page is as fast as the next
