"""Command line of the database: ``python -m geo.db start|stop|status|url``."""

from __future__ import annotations

import sys
import time

import click

from geo.cli import run_cli
from geo.db import database_url
from geo.db.cluster import Cluster
from geo.settings import get_settings


@click.group()
def main() -> None:
    """The project's PostGIS: the embedded cluster under var/, or DATABASE_URL when set."""


@main.command()
def start() -> None:
    """Start (or reuse) the database, enable PostGIS and apply migrations."""
    from geo.db.setup import start as do_start

    began = time.perf_counter()
    result = do_start()
    what = (
        "embedded PostGIS " + ("started" if result.started else "already running")
        if result.embedded
        else "external PostGIS reachable"
    )
    click.echo(f"{what}; migrations at head; {time.perf_counter() - began:.1f} s")
    click.echo(result.url.render_as_string(hide_password=True))


@main.command()
def stop() -> None:
    """Stop the embedded cluster (nothing to do with DATABASE_URL set)."""
    if not get_settings().embedded:
        click.echo("DATABASE_URL is set: the external server is not ours to stop")
        return
    stopped = Cluster.from_settings().stop()
    click.echo("embedded PostGIS stopped" if stopped else "embedded PostGIS was not running")


@main.command()
def status() -> None:
    """Say whether the database runs; exit code 3 when it does not."""
    settings = get_settings()
    if not settings.embedded:
        from geo.db.setup import check_connection

        check_connection(database_url())
        click.echo("external PostGIS reachable: " + database_url().render_as_string(hide_password=True))
        return
    state = Cluster.from_settings().status()
    if not state.initialized:
        click.echo(f"embedded PostGIS not initialised (data folder {state.data_dir})")
        sys.exit(3)
    if not state.running:
        click.echo(f"embedded PostGIS stopped (data folder {state.data_dir}, port {state.port})")
        sys.exit(3)
    click.echo(f"embedded PostGIS running: pid {state.pid}, port {state.port}, socket {state.socket_dir}")


@main.command()
def url() -> None:
    """Print the connection URL of the configured database."""
    click.echo(database_url().render_as_string(hide_password=False))


if __name__ == "__main__":
    run_cli(main)
