"""Demo accounts: one user per role (a squad leader per squad, a user per street chief) and a kiosk link.

Every account gets its own random password, made when the account is made and kept in
``var/demo-credentials.txt`` (mode 0600, one ``user <name> <password>`` line each, and a
``kiosk <link>`` line); nothing secret is in the code. Running it again adds only what is
missing; a demo account without a line of its own (made by an older version with one shared
password) gets a new password of its own.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import Engine, select

from dashboard.access.store import add_user, create_kiosk_token, list_users, set_password
from geo.models import Squad, StreetChief
from geo.settings import get_settings

HEADER = "# 演示账号：每个账号一个随机密码（user 用户名 密码），以及大屏链接（kiosk 链接）"


def credentials_file() -> Path:
    """Where the demo passwords and the kiosk link are kept."""
    return Path(get_settings().var_dir) / "demo-credentials.txt"


def demo_credentials() -> dict[str, str]:
    """Username → password of every demo account in the credentials file (empty before the first run)."""
    path = credentials_file()
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "user" and " " in rest:
            username, password = rest.split(" ", 1)
            found[username] = password.strip()
    return found


def kiosk_link() -> str | None:
    """The demo kiosk link from the credentials file, if made."""
    path = credentials_file()
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return next((line.removeprefix("kiosk ").strip() for line in lines if line.startswith("kiosk ")), None)


def _wanted(engine: Engine) -> dict[str, tuple[str, dict]]:
    wanted: dict[str, tuple[str, dict]] = {
        "admin": ("admin", {"display_name": "系统管理员"}),
        "zhihui": ("command_center", {"display_name": "指挥中心"}),
        "viewer": ("viewer", {"display_name": "浏览者"}),
    }
    with engine.connect() as conn:
        squads = conn.execute(select(Squad.code, Squad.name).order_by(Squad.code)).all()
        chiefs = conn.execute(select(StreetChief.code, StreetChief.name, StreetChief.squad_code)).all()
    for code, name in squads:
        wanted[code.lower()] = ("squad_leader", {"squad_code": code, "display_name": f"{name}中队长"})
    for code, name, squad in chiefs:
        wanted[code.lower()] = ("street_chief", {"chief_code": code, "squad_code": squad, "display_name": name})
    return wanted


def ensure_demo_users(engine: Engine) -> dict[str, str]:
    """Create the demo users that are missing, each with a password of its own; returns username → role."""
    wanted = _wanted(engine)
    existing = {u["username"] for u in list_users(engine)}
    passwords = demo_credentials()
    for username, (role, extra) in wanted.items():
        if username in passwords:
            continue
        passwords[username] = secrets.token_urlsafe(12)
        if username in existing:
            set_password(engine, username, passwords[username])
        else:
            add_user(engine, username, passwords[username], role, **extra)
    link = kiosk_link()
    if link is None:
        settings = get_settings()
        token = create_kiosk_token(engine, "演示大屏")
        link = f"http://{settings.dash_host}:{settings.dash_port}/kiosk?token={token}"
    lines = [HEADER, *(f"user {name} {password}" for name, password in passwords.items()), f"kiosk {link}"]
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {name: role for name, (role, _) in wanted.items()}
