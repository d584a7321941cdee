"""Command line of the ETL: ``python -m etl <command>``."""

from __future__ import annotations

import click
from rich.table import Table
from sqlalchemy import select

from etl.report import console, print_summary
from geo.cli import run_cli
from geo.db import get_engine
from geo.models import EtlReject, EtlRun
from geo.region import get_region


@click.group()
def main() -> None:
    """Load the bureau's files into PostGIS and inspect what was loaded."""


@main.command()
def region() -> None:
    """Load the county, townships and villages from the region config."""
    from etl.jobs.region import load_region

    print_summary([load_region(get_engine(), get_region())])


@main.command()
def demo() -> None:
    """Load the demo data through the same jobs a user runs on real files."""
    from etl.demo import load_demo

    print_summary(load_demo(get_engine()))


@main.command()
def rematch() -> None:
    """Match every stored GPS fix to the current street network again and rebuild the segment visits."""
    from etl.jobs.gps import rematch as rematch_fixes

    print_summary([rematch_fixes(get_engine())])


@main.command()
@click.option("--limit", default=30, show_default=True, help="How many recent runs to list.")
def runs(limit: int) -> None:
    """List recent runs with their counts."""
    with get_engine().connect() as conn:
        rows = conn.execute(select(EtlRun.__table__).order_by(EtlRun.id.desc()).limit(limit)).all()
    table = Table(title="ETL runs")
    for column in ("run", "job", "status", "started", "read", "loaded", "rejected", "source", "error"):
        table.add_column(column)
    for run in rows:
        table.add_row(
            str(run.id),
            run.job,
            run.status,
            f"{run.started_at:%Y-%m-%d %H:%M:%S}",
            str(run.rows_read),
            str(run.rows_loaded),
            str(run.rows_rejected),
            run.source_path,
            (run.error or "")[:80],
        )
    console.print(table)


@main.command()
@click.argument("run_id", type=int)
@click.option("--limit", default=200, show_default=True)
def rejects(run_id: int, limit: int) -> None:
    """Show the rejected rows of run RUN_ID with their reasons."""
    with get_engine().connect() as conn:
        rows = conn.execute(
            select(EtlReject.__table__).where(EtlReject.run_id == run_id).order_by(EtlReject.id).limit(limit)
        ).all()
        exists = conn.execute(select(EtlRun.id).where(EtlRun.id == run_id)).scalar()
    if exists is None:
        raise click.ClickException(f"no run {run_id}; see 'python -m etl runs'")
    table = Table(title=f"rejects of run {run_id}")
    for column in ("file", "row", "reason", "raw"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.source_file, str(row.row_number or ""), row.reason, str(row.raw)[:120])
    console.print(table)


if __name__ == "__main__":
    run_cli(main)
