"""Database roles: the dashboard reads as ``egis_reader``, the ETL writes as ``egis_writer``.

Both are NOLOGIN group roles; a session takes one on at connection start (``-c role=…`` in the
connection options), so the same login works for the embedded cluster and an external server
whose login user is a member of both. The reader may only SELECT, plus append to the audit log,
stamp a user's last login, and keep the login sessions and the login lockout.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from geo.errors import DatabaseError

READER = "egis_reader"
WRITER = "egis_writer"


def with_role(url: URL, role: str) -> URL:
    """``url`` with ``-c role=<role>`` added to its connection options."""
    return with_option(url, "role", role)


def with_option(url: URL, name: str, value: str) -> URL:
    """``url`` with the server setting ``-c <name>=<value>`` added to its connection options."""
    options = url.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    return url.update_query_dict({"options": f"{options} -c{name}={value}".strip()})


def ensure_roles(engine: Engine) -> None:
    """Create the two roles if missing and grant them their rights on the current schema.

    Raises
    ------
    DatabaseError
        When the connecting user may not create or grant the roles; says what to ask for.
    """
    try:
        with engine.begin() as conn:
            # one set-up at a time: the dashboard's workers, the ETL and the API each run this when they
            # start, and PostgreSQL refuses concurrent GRANTs on one object ("tuple concurrently updated")
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('egis.ensure_roles'))"))
            user = conn.execute(text("SELECT current_user")).scalar()
            for role in (READER, WRITER):
                exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
                if not exists:
                    conn.execute(text(f"CREATE ROLE {role} NOLOGIN"))
                member = conn.execute(text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": role}).scalar()
                if not member:
                    conn.execute(text(f'GRANT {role} TO "{user}"'))
            schema = conn.execute(text("SELECT current_schema()")).scalar()
            for statement in (
                f'GRANT USAGE ON SCHEMA "{schema}" TO {READER}, {WRITER}',
                f"GRANT USAGE ON SCHEMA public TO {READER}, {WRITER}",
                f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {READER}',
                f'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA "{schema}" TO {WRITER}',
                f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {WRITER}',
                f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA "{schema}" FROM {READER}',
            ):
                conn.execute(text(statement))
            if conn.execute(text("SELECT to_regclass('audit_log')")).scalar():
                conn.execute(text(f"GRANT INSERT ON audit_log TO {READER}"))
                conn.execute(text(f"GRANT USAGE ON SEQUENCE audit_log_id_seq TO {READER}"))
                conn.execute(text(f"GRANT UPDATE (last_login_at) ON users TO {READER}"))
            if conn.execute(text("SELECT to_regclass('user_sessions')")).scalar():
                # the dashboard keeps its login sessions and the login lockout itself
                for table in ("user_sessions", "login_failures", "login_locks"):
                    conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {READER}"))
                conn.execute(text(f"GRANT USAGE ON SEQUENCE login_failures_id_seq TO {READER}"))
    except DBAPIError as exc:
        raise DatabaseError(
            f"cannot set up the database roles {READER}/{WRITER} ({exc.orig}); ask the database administrator "
            f"to create them (NOLOGIN), grant them to the login user, and grant {READER} SELECT and {WRITER} "
            "SELECT/INSERT/UPDATE/DELETE on the project's tables"
        ) from exc
