"""gunicorn settings of the dashboard (``gunicorn -c dashboard/gunicorn.conf.py dashboard.wsgi:server``).

Threads serve the light live polls beside the heavier page callbacks; keep-alive is longer than the
live polling interval (5 s) so that a wall's idle connection is reused, not reset, between polls.
"""

bind = "127.0.0.1:8050"
workers = 2
worker_class = "gthread"
threads = 4
keepalive = 10  # seconds; above dashboard.live.INTERVAL_MS (5 s)
timeout = 120
graceful_timeout = 30
