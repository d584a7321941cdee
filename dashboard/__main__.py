"""Serve the dashboard: ``python -m dashboard`` (development server on the configured host/port)."""

from __future__ import annotations

from dashboard.app import create_app
from geo.settings import get_settings


def main() -> None:
    settings = get_settings()
    app = create_app()
    print(f"dashboard on http://{settings.dash_host}:{settings.dash_port}", flush=True)
    app.run(host=settings.dash_host, port=settings.dash_port, debug=False)


if __name__ == "__main__":
    main()
