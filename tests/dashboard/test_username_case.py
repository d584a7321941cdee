"""Usernames are case-insensitive: the code a chief sees (``JLZ01001``) logs in as ``jlz01001``."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from dashboard.access.store import AuthError, add_user, list_users, normal_username, set_password
from geo.db.migrate import alembic_config, downgrade, head_revision, upgrade
from tests.dashboard.conftest import AUTH_PASSWORD, login

LOCKED = "登录失败次数过多"


def test_normal_username_lowers_and_trims() -> None:
    assert normal_username("  JLZ01001 ") == "jlz01001"
    assert normal_username("jlz01001") == "jlz01001"


def test_a_chief_logs_in_with_the_code_in_capitals(client, auth_db: Engine) -> None:
    add_user(auth_db, "JLZ01001", AUTH_PASSWORD, "street_chief", chief_code="JLZ01001", squad_code="ZD01")
    assert "jlz01001" in {u["username"] for u in list_users(auth_db)}  # stored in the normal form
    for spelling in ("JLZ01001", "jlz01001", "Jlz01001"):
        response = login(client, spelling, next_="")
        assert response.status_code == 302, spelling
        client.get("/logout")
    assert login(client, "JLZ01001", "wrong-password").status_code == 401


def test_a_second_user_differing_only_in_case_is_refused(auth_db: Engine) -> None:
    add_user(auth_db, "zd07", AUTH_PASSWORD, "squad_leader", squad_code="ZD07")
    with pytest.raises(AuthError, match="exists already"):
        add_user(auth_db, "ZD07", AUTH_PASSWORD, "squad_leader", squad_code="ZD07")
    set_password(auth_db, "ZD07", "another-password-1")  # the command line finds it in any case too
    # even a row written past the store is refused by the index
    with auth_db.begin() as conn, pytest.raises(Exception, match="uq_users_username_lower"):
        conn.execute(text("INSERT INTO users (username, password_hash, role) VALUES ('ADMIN', 'x', 'viewer')"))


def test_wrong_passwords_in_any_case_count_against_one_account(client, auth_db: Engine) -> None:
    statuses = [login(client, name, "guess-1").status_code for name in ("ADMIN", "admin", "Admin", "ADMIN")]
    assert statuses == [401] * 4
    assert login(client, "aDmIn", "guess-1").status_code == 429  # the fifth failure, whatever the case
    assert login(client, "admin").status_code == 429  # the right password is refused while locked
    with auth_db.connect() as conn:
        keys = conn.execute(text("SELECT DISTINCT username FROM login_failures")).scalars().all()
        locks = conn.execute(text("SELECT key FROM login_locks WHERE kind = 'account'")).scalars().all()
    assert keys == ["admin"] and locks == ["admin"]


def test_migration_1303_stops_clearly_when_users_collide(schema_engine: Engine) -> None:
    before = ScriptDirectory.from_config(alembic_config()).get_revision("1303").down_revision
    downgrade(schema_engine, before)
    with schema_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, password_hash, role) VALUES "
                "('JLZ01001', 'x', 'viewer'), ('jlz01001', 'x', 'viewer'), ('other', 'x', 'viewer')"
            )
        )
    with pytest.raises(Exception, match=r"differ only in case: JLZ01001, jlz01001"):
        upgrade(schema_engine)
    with schema_engine.connect() as conn:  # the failed upgrade changed nothing
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == before
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 3
    with schema_engine.begin() as conn:
        conn.execute(text("UPDATE users SET username = 'jlz01001_old' WHERE username = 'JLZ01001'"))
    upgrade(schema_engine)
    with schema_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
