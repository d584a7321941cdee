"""Command line of the ETL: ``python -m etl <command>``."""

from __future__ import annotations

from pathlib import Path

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


@main.command("generate-demo")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=20211231, show_default=True, help="Random seed; same seed, same files.")
@click.option("--years", default=2, show_default=True, help="Years of cases, ending on --end.")
@click.option("--scale", default=1.0, show_default=True, help="Multiplies cases, street chiefs and GPS days.")
@click.option("--end", "end", default=None, help="Last day of the data, YYYY-MM-DD (default: today).")
def generate_demo_command(out_dir: Path, seed: int, years: int, scale: float, end: str | None) -> None:
    """Write the demo dataset (raw files in the bureau's formats, and the known truth) to OUT_DIR."""
    import datetime as dt

    from etl.demo.generate import generate_demo

    if years < 1 or scale <= 0:
        raise click.BadParameter("--years must be at least 1 and --scale positive")
    try:
        last = dt.date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise click.BadParameter(f"--end {end!r} is not a date YYYY-MM-DD") from exc
    summary = generate_demo(out_dir, seed=seed, years=years, scale=scale, end=last)
    for key, value in summary.counts.items():
        console.print(f"{key:>18}: {value:,}")
    console.print(f"{'raw size':>18}: {summary.size_bytes() / 1e6:.1f} MB in {out_dir / 'raw'}")
    console.print(f"{'seconds':>18}: {sum(summary.seconds.values()):.1f}")


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
