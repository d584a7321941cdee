"""The dashboard's read-only role and the ETL's writer role."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ProgrammingError

from geo.db import get_engine
from geo.db.roles import READER, WRITER, ensure_roles, with_role


def test_reader_can_read_but_not_write(schema_url: URL) -> None:
    engine = get_engine(with_role(schema_url, READER))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == READER
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 0
    for statement in (
        "INSERT INTO squads (code, name) VALUES ('X', 'X中队')",
        "DELETE FROM cases",
        "UPDATE users SET role = 'admin'",
        "DROP TABLE cases",
    ):
        with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.begin() as conn:  # the audit log is append-only for the reader
        conn.execute(text("INSERT INTO audit_log (username, action) VALUES ('u', 'login')"))
    with pytest.raises(ProgrammingError, match="permission denied"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_writer_can_write_but_not_change_the_schema(schema_url: URL) -> None:
    engine = get_engine(with_role(schema_url, WRITER))
    with engine.begin() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == WRITER
        conn.execute(text("INSERT INTO squads (code, name) VALUES ('W1', '写入中队')"))
    with pytest.raises(ProgrammingError, match=r"must be owner|permission denied"), engine.begin() as conn:
        conn.execute(text("DROP TABLE squads"))


def test_processes_setting_up_the_roles_at_the_same_time_all_succeed(schema_url: URL) -> None:
    """The dashboard's workers, the ETL and the API each set up the roles when they start, possibly at
    once; PostgreSQL refuses two concurrent GRANTs on one object ("tuple concurrently updated")."""
    engines = [get_engine(schema_url.update_query_dict({"application_name": f"setup-{n}"})) for n in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def set_up(engine) -> None:
        start.wait()
        try:
            for _ in range(15):
                ensure_roles(engine)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=set_up, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert all(not thread.is_alive() for thread in threads)
