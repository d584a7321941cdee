"""Command line of the ETL: ``python -m etl <command>``."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import click
from rich.table import Table
from sqlalchemy import select

from etl.geocode_cli import geocode
from etl.readers.encoding import forced_encoding
from etl.report import changed_summary, console, print_summary
from geo.cli import run_cli
from geo.db import writer_engine
from geo.models import EtlReject, EtlRun
from geo.region import get_region


@click.group()
def main() -> None:
    """Load the bureau's files into PostGIS and inspect what was loaded."""


@main.command()
def region() -> None:
    """Load the county, townships and villages from the region config."""
    from etl.jobs.region import load_region

    print_summary([load_region(writer_engine(), get_region())])


@main.command()
def demo() -> None:
    """Load the demo data through the same jobs a user runs on real files."""
    from etl.demo import load_demo

    print_summary(load_demo(writer_engine()))


LOAD_KINDS = ("jurisdictions", "streets", "places", "stations", "chiefs", "routes", "gps", "cases")


def job_module(kind: str) -> ModuleType:
    """The module ``etl.jobs.<kind>`` that loads ``kind``; a clear error when it is not installed."""
    name = f"etl.jobs.{kind}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise click.ClickException(f"no loader for {kind!r} in this installation (module {name} is missing)") from exc
    if not callable(getattr(module, "load", None)):
        raise click.ClickException(f"module {name} has no load() function")
    return module


@main.command()
@click.argument("kind", type=click.Choice(LOAD_KINDS))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--crs", default=None, help="CRS of the coordinates: EPSG:n, gcj02 or bd09 (wins over source.toml).")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Column mapping file (TOML) overriding the default headers.",
)
@click.option(
    "--encoding",
    default=None,
    help="Text encoding of the CSV/DBF files (e.g. gbk, big5, shift_jis, utf-8); wins over source.toml and detection.",
)
@click.option("--force", is_flag=True, help="Load even when identical input was loaded before.")
@click.option(
    "--accept-foreign",
    is_flag=True,
    help="cases: load a file whose rows mostly lie outside the region or match no address in it.",
)
def load(
    kind: str,
    path: Path,
    crs: str | None,
    mapping: Path | None,
    encoding: str | None,
    force: bool,
    accept_foreign: bool,
) -> None:
    """Load PATH (a file, a zip or a folder) as KIND."""
    module = job_module(kind)
    options: dict[str, object] = {}
    if accept_foreign:
        if kind != "cases":
            raise click.BadParameter("--accept-foreign applies to cases only", param_hint="--accept-foreign")
        options["accept_foreign"] = True
    with forced_encoding(encoding):
        report = module.load(writer_engine(), path, crs=crs, mapping=mapping, force=force, **options)
    print_summary([report])


main.add_command(geocode)


@main.command()
def rematch() -> None:
    """Match every stored GPS fix to the current street network again and rebuild the segment visits."""
    from etl.jobs.gps import rematch as rematch_fixes

    print_summary([rematch_fixes(writer_engine())])


@main.command("generate-demo")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=20211231, show_default=True, help="Random seed; same seed, same files.")
@click.option("--years", default=2, show_default=True, help="Years of cases, ending on --end.")
@click.option("--scale", default=1.0, show_default=True, help="Multiplies cases, street chiefs and GPS days.")
@click.option(
    "--end", "end", default=None, help="Last day of the data, YYYY-MM-DD (default: yesterday, the last complete day)."
)
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
    with writer_engine().connect() as conn:
        rows = conn.execute(select(EtlRun.__table__).order_by(EtlRun.id.desc()).limit(limit)).all()
    table = Table(title="ETL runs")
    for column in ("run", "job", "status", "started", "read", "loaded", "rejected", "changed", "source", "error"):
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
            changed_summary(run.stats or {}),
            run.source_path,
            (run.error or "")[:80],
        )
    console.print(table)


@main.command()
@click.argument("run_id", type=int)
@click.option("--limit", default=200, show_default=True)
def rejects(run_id: int, limit: int) -> None:
    """Show the rejected rows of run RUN_ID with their reasons."""
    with writer_engine().connect() as conn:
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


@main.command()
@click.option("--limit", default=200, show_default=True, help="List at most this many cases (the count is of all).")
def review(limit: int) -> None:
    """Cases a person should check (the case page's 待核查地址): unmatched or coarse addresses, low
    geocode scores, flagged coordinates, squads or times; worst first, each with its reason."""
    from etl.review import review_count, review_queue

    with writer_engine().connect() as conn:
        rows = review_queue(conn, limit=limit)
        total = review_count(conn)
    shown = f", the worst {len(rows)} shown" if total > len(rows) else ""
    table = Table(title=f"review queue ({total} cases{shown})")
    for column in ("case", "received", "address", "level", "reason", "point", "squad"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["case_number"],
            f"{row['received_at'].astimezone(get_region().tz):%Y-%m-%d %H:%M}" if row["received_at"] else "",
            row["address"] or "",
            row["geocode_level"],
            row["reason"],
            "坐标" if row["has_point"] else "无",
            row["squad_code"] or "",
        )
    console.print(table)


if __name__ == "__main__":
    run_cli(main)
