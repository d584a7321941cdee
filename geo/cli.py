"""Running a command line: project errors become one clear message and exit code 1, never a traceback."""

from __future__ import annotations

import sys

import click

from geo.errors import EgisError


def run_cli(command: click.Command) -> None:
    """Run a click command; an :class:`EgisError` prints ``error: message`` on stderr and exits 1."""
    try:
        command.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except EgisError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
