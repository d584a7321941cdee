"""The ingest API as a Flask WSGI app: bearer tokens, limits, the batch endpoints, errors as JSON."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import flask
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from etl.api.bodies import BadBody, items_of
from etl.api.openapi import openapi
from etl.api.rate import RateLimiter
from etl.api.tokens import check_token
from etl.live.cases import ingest_events
from etl.live.gps import ingest_fixes
from etl.live.outcome import Outcome
from geo.db import writer_engine
from geo.settings import get_settings
from geo.tokens import token_hash

RETRY_AFTER_DB_S = 2


def _error(status: int, message: str, errors: list[dict[str, Any]] | None = None, **headers: str) -> flask.Response:
    body: dict[str, Any] = {"error": message}
    if errors:
        body["errors"] = errors
    response = flask.jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


def create_app() -> flask.Flask:
    """The WSGI app (``etl.api.wsgi:app`` under gunicorn)."""
    settings = get_settings()
    app = flask.Flask("etl.api")
    app.config["MAX_CONTENT_LENGTH"] = int(settings.api_max_body_mb * 1024 * 1024)
    limiter = RateLimiter(settings.api_rate_per_s, max(1.0, settings.api_rate_per_s * 2))

    def batch(kind: str, key: str, ingest: Callable[[Any, str, list[Any]], Outcome]) -> flask.Response:
        header = flask.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error(401, "Authorization: Bearer <token> is required", **{"WWW-Authenticate": "Bearer"})
        token = token.strip()
        wait = limiter.take(token_hash(token))
        if wait > 0:
            return _error(429, "too many requests for this token", **{"Retry-After": str(max(1, math.ceil(wait)))})
        with writer_engine().connect() as conn:  # one connection and transaction: token check, checks, writes
            check = check_token(conn, token, kind)
            if check.status != 200:
                extra = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if check.status == 401 else {}
                return _error(check.status, check.problem or "refused", **extra)
            try:
                items = items_of(flask.request.get_data(cache=False), flask.request.content_type or "", key)
            except BadBody as exc:
                return _error(400, str(exc), exc.errors)
            if len(items) > settings.api_max_batch:
                return _error(
                    413, f"{len(items)} items in one batch; at most {settings.api_max_batch} (EGIS_API_MAX_BATCH)"
                )
            outcome = ingest(conn, check.source or "", items)
        if items and outcome.malformed == len(items):
            return _error(400, "no item of the batch is valid", outcome.rejected)
        return flask.jsonify(outcome.answer())

    @app.post("/api/v1/gps")
    def gps() -> flask.Response:
        return batch("gps", "fixes", ingest_fixes)

    @app.post("/api/v1/cases")
    def cases() -> flask.Response:
        return batch("cases", "events", ingest_events)

    @app.get("/api/v1/openapi.json")
    def spec() -> flask.Response:
        return flask.jsonify(openapi())

    @app.get("/api/v1/health")
    def health() -> flask.Response:
        return flask.jsonify({"ok": True})

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError) -> flask.Response:
        if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
            app.logger.warning("database unreachable during ingest: %s", exc.__class__.__name__)
            return _error(503, "database unreachable: retry later", **{"Retry-After": str(RETRY_AFTER_DB_S)})
        # A retry cannot help with a refused statement: say so instead of asking the device to resend.
        app.logger.exception("database refused a statement during ingest")
        return _error(500, f"internal error ({exc.__class__.__name__}): the batch was not stored; report it")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> flask.Response:
        return _error(413, f"request body larger than {settings.api_max_body_mb:g} MB (EGIS_API_MAX_BODY_MB)")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> flask.Response:
        return _error(exc.code or 500, exc.description or exc.name)

    @app.after_request
    def headers(response: flask.Response) -> flask.Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    return app
