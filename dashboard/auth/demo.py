"""Demo accounts: one user per role (a squad leader per squad, a user per street chief) and a kiosk link.

The password is random, made on first use and kept in ``var/demo-credentials.txt`` (mode 0600);
nothing secret is in the code. Running it again adds only what is missing.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import Engine, select

from dashboard.auth.store import add_user, create_kiosk_token, list_users
from geo.models import Squad, StreetChief
from geo.settings import get_settings


def _password_file() -> Path:
    return Path(get_settings().var_dir) / "demo-credentials.txt"


def demo_password() -> str:
    """The demo password (created on first call)."""
    path = _password_file()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("password: "):
                return line.removeprefix("password: ").strip()
    password = secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"password: {password}\n", encoding="utf-8")
    path.chmod(0o600)
    return password


def ensure_demo_users(engine: Engine) -> dict[str, str]:
    """Create the demo users that are missing; returns username → role of every demo user."""
    password = demo_password()
    existing = {u["username"] for u in list_users(engine)}
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
    for username, (role, extra) in wanted.items():
        if username not in existing:
            add_user(engine, username, password, role, **extra)
    path = _password_file()
    if "kiosk:" not in path.read_text(encoding="utf-8"):
        token = create_kiosk_token(engine, "演示大屏")
        settings = get_settings()
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"kiosk: http://{settings.dash_host}:{settings.dash_port}/kiosk?token={token}\n")
    return {name: role for name, (role, _) in wanted.items()}
