"""Liveness and readiness routes for load balancers and process supervisors.

``/healthz`` answers 200 while the process serves requests (restart it when this fails);
``/readyz`` answers 200 only when the database answers as the dashboard's role and its schema
is at the newest migration, else 503 with the reason (send no traffic while it fails).
"""

from __future__ import annotations

import logging
from functools import lru_cache

import flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from geo.db import reader_engine
from geo.db.migrate import current_revision, head_revision
from geo.errors import EgisError

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _head() -> str:
    return head_revision()


def readiness() -> tuple[bool, dict[str, object]]:
    """Whether the dashboard can serve data now, with what was found (``ready``, ``revision``, ``reason``)."""
    try:
        with reader_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = current_revision(conn)
    except (SQLAlchemyError, EgisError) as exc:
        log.warning("not ready: database unreachable: %s", exc)
        return False, {"ready": False, "reason": "数据库不可达"}
    if revision != _head():
        return False, {"ready": False, "reason": "数据库迁移未到最新", "revision": revision, "head": _head()}
    return True, {"ready": True, "revision": revision}


def register_health_routes(server: flask.Flask) -> None:
    """Add ``/healthz`` (liveness) and ``/readyz`` (readiness) to the server; both need no login."""

    @server.route("/healthz")
    def healthz():
        return {"ok": True}

    @server.route("/readyz")
    def readyz():
        ready, body = readiness()
        return flask.jsonify(body), 200 if ready else 503
