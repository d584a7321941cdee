"""The ingest HTTP API (``python -m etl api``): GPS fixes and case events from devices, with bearer tokens."""
