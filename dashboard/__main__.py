"""``python -m dashboard``: serve the dashboard; ``python -m dashboard users|kiosk …``: manage access."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from geo.cli import run_cli
from geo.db import writer_engine
from geo.settings import get_settings


@click.group(invoke_without_command=True)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Serve the dashboard (development server) when no command is given."""
    if ctx.invoked_subcommand is None:
        from dashboard.app import create_app

        settings = get_settings()
        app = create_app()
        click.echo(f"dashboard on http://{settings.dash_host}:{settings.dash_port}")
        app.run(host=settings.dash_host, port=settings.dash_port, debug=False)


@main.group()
def users() -> None:
    """Add users, set roles and passwords, list them."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, help="admin | command_center | squad_leader | street_chief | viewer")
@click.option("--squad", "squad_code", help="Squad code for a squad_leader (e.g. ZD01).")
@click.option("--chief", "chief_code", help="Street chief code for a street_chief.")
@click.option("--name", "display_name", help="Name shown in the dashboard.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters.")
def users_add(
    username: str, role: str, squad_code: str | None, chief_code: str | None, display_name: str | None, password: str
) -> None:
    """Create user USERNAME."""
    from dashboard.access.store import add_user

    add_user(
        writer_engine(),
        username,
        password,
        role,
        squad_code=squad_code,
        chief_code=chief_code,
        display_name=display_name,
    )
    click.echo(f"user {username} added with role {role}")


@users.command("set-role")
@click.argument("username")
@click.option("--role", required=True)
@click.option("--squad", "squad_code")
@click.option("--chief", "chief_code")
def users_set_role(username: str, role: str, squad_code: str | None, chief_code: str | None) -> None:
    """Change the role of USERNAME."""
    from dashboard.access.store import set_role

    set_role(writer_engine(), username, role, squad_code=squad_code, chief_code=chief_code)
    click.echo(f"user {username} now has role {role}")


@users.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_passwd(username: str, password: str) -> None:
    """Set a new password for USERNAME."""
    from dashboard.access.store import set_password

    set_password(writer_engine(), username, password)
    click.echo(f"password of {username} changed")


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable USERNAME (cannot log in; open sessions end)."""
    from dashboard.access.store import set_active

    set_active(writer_engine(), username, False)
    click.echo(f"user {username} disabled")


@users.command("list")
def users_list() -> None:
    """List users and their roles."""
    from dashboard.access.store import list_users

    table = Table(title="users")
    for column in ("username", "name", "role", "squad", "chief", "active", "last login"):
        table.add_column(column)
    for user in list_users(writer_engine()):
        table.add_row(
            user["username"],
            user["display_name"] or "",
            user["role"],
            user["squad_code"] or "",
            user["chief_code"] or "",
            "yes" if user["active"] else "no",
            str(user["last_login_at"] or ""),
        )
    Console().print(table)


@users.command("demo")
def users_demo() -> None:
    """Create the demo accounts (one per role, squad and street chief, each with its own password)."""
    from dashboard.access.demo import credentials_file, demo_credentials, ensure_demo_users, kiosk_link

    created = ensure_demo_users(writer_engine())
    roles = sorted({role for role in created.values()})
    passwords = demo_credentials()
    click.echo(f"demo accounts: {len(created)} ({', '.join(roles)}), each with its own password")
    for username in ("admin", "zhihui", "zd01", "viewer"):
        if username in passwords:
            click.echo(f"  {username:8} {passwords[username]}")
    click.echo(f"wall screen: {kiosk_link()}")
    click.echo(f"every account and password: {credentials_file()}")


@main.group()
def kiosk() -> None:
    """Kiosk tokens for wall screens (read-only /wall, no personal data)."""


@kiosk.command("create")
@click.argument("label")
@click.option("--days", default=365, show_default=True)
def kiosk_create(label: str, days: int) -> None:
    """Create a token for the screen LABEL and print its link."""
    from dashboard.access.store import create_kiosk_token

    token = create_kiosk_token(writer_engine(), label, days)
    settings = get_settings()
    click.echo(f"http://{settings.dash_host}:{settings.dash_port}/kiosk?token={token}")


@kiosk.command("revoke")
@click.argument("label")
def kiosk_revoke(label: str) -> None:
    """Revoke the tokens of the screen LABEL."""
    from dashboard.access.store import revoke_kiosk_token

    click.echo(f"revoked {revoke_kiosk_token(writer_engine(), label)} token(s)")


if __name__ == "__main__":
    run_cli(main)
