"""Command line of the ETL: ``python -m etl <command>``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.table import Table
from sqlalchemy import select

from etl.geocode_cli import geocode
from etl.jobs.registry import JOBS, OPTION_FLAGS, job, kinds, markdown_table
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
    _gps_maintenance()  # the demo's past days of fixes land in the default partition: move them to their days


def _load_help() -> str:
    lines = ["Load PATH (a file, a zip or a folder) as KIND.", "", "\b", "Kinds, in load order (python -m etl jobs):"]
    lines += [f"  {entry.kind:<14} {entry.reads}" for entry in JOBS]
    return "\n".join(lines)


@main.command(help=_load_help())
@click.argument("kind", type=click.Choice(kinds()))
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
    """Load PATH as KIND (the help lists the kinds of the job registry, etl/jobs/registry.py)."""
    entry = job(kind)
    given = {"crs": crs, "mapping": mapping, "encoding": encoding, "accept_foreign": accept_foreign or None}
    for option, value in given.items():
        if value is not None and option not in entry.options:
            flag = OPTION_FLAGS[option]
            takes = " ".join(entry.flags()) or "none"
            raise click.BadParameter(f"{flag} does not apply to {kind} (it takes: {takes})", param_hint=flag)
    options = {key: given[key] for key in ("crs", "mapping") if key in entry.options}
    if accept_foreign:
        options["accept_foreign"] = True
    module = entry.job_module()
    with forced_encoding(encoding):
        report = module.load(writer_engine(), path, force=force, **options)
    print_summary([report])


@main.command()
@click.option("--markdown", is_flag=True, help="Print the README's job table.")
def jobs(markdown: bool) -> None:
    """List the ETL jobs in load order: what each reads, where it writes, its natural key, what it needs first."""
    if markdown:
        click.echo(markdown_table())
        return
    table = Table(title="ETL jobs (load order; the region comes first: python -m etl region)")
    for column in ("kind", "reads", "table", "natural key", "after", "options"):
        table.add_column(column)
    for entry in JOBS:
        key, after = ", ".join(entry.merge_key), ", ".join(entry.after)
        table.add_row(entry.kind, entry.reads, entry.table, key, after, " ".join(entry.flags()))
    console.print(table)


main.add_command(geocode)


@main.command()
def rematch() -> None:
    """Match every stored GPS fix to the current street network again and rebuild the segment visits."""
    from etl.jobs.gps import rematch as rematch_fixes

    print_summary([rematch_fixes(writer_engine())])


@main.command()
def maintenance() -> None:
    """Partitions of gps_fixes: premake the coming days, drop those past [gps] retention_days, empty the default."""
    _gps_maintenance()


def _gps_maintenance() -> None:
    """Run the gps_fixes partition maintenance as the owner and print what it did."""
    from geo.db import get_engine
    from geo.partitions import run_gps_maintenance

    with get_engine().begin() as conn:  # the owner: creating and dropping partitions is DDL
        report = run_gps_maintenance(conn, get_region().gps.retention_days)
    console.print(report.line())
    for name in report.created:
        console.print(f"  + {name}")
    for name in report.dropped:
        console.print(f"  - {name}")


@main.command("due-times")
def due_times() -> None:
    """Recompute the due times of loaded cases from the region's time limits and holiday calendar."""
    from etl.jobs._case_checks import calendar_warning
    from etl.jobs.due_times import recompute_due_times

    region = get_region()
    with writer_engine().begin() as conn:
        done = recompute_due_times(conn, region)
    console.print(f"due times recomputed: {done.changed:,} cases changed")
    warning = calendar_warning(done.gaps, region)
    if warning:
        console.print(f"[yellow]warning:[/] {warning}")


@main.command("case-segments")
def case_segments() -> None:
    """Recompute the street segment every located case counts on (nearest within [analysis] case_segment_max_m)."""
    from geo.case_segments import assign_case_segments

    region = get_region()
    with writer_engine().begin() as conn:
        done = assign_case_segments(conn, region)
    console.print(
        f"case segments: {done.on_segment:,} of {done.cases:,} located cases within "
        f"{region.analysis.case_segment_max_m:g} m of a segment; {done.changed:,} cases changed"
    )


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


@main.command()
@click.option("--bind", default=None, help="host:port to listen on (default EGIS_API_HOST:EGIS_API_PORT).")
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default 2).")
def api(bind: str | None, workers: int | None) -> None:
    """Serve the ingest API (POST /api/v1/gps, /api/v1/cases; OpenAPI at /api/v1/openapi.json) under gunicorn."""
    from etl.api.serve import serve
    from geo.settings import get_settings

    settings = get_settings()
    serve(bind or f"{settings.api_host}:{settings.api_port}", workers)


@main.group()
def tokens() -> None:
    """Bearer tokens of the ingest API, one per source (shown once, stored hashed)."""


@tokens.command("create")
@click.option("--source", required=True, help="Name of the sending source, e.g. the vendor platform.")
@click.option("--kinds", required=True, help="What it may send: gps, cases or gps,cases.")
@click.option("--expires-days", type=float, default=None, help="Days until the token expires (default: never).")
def tokens_create(source: str, kinds: str, expires_days: float | None) -> None:
    """Create a token for SOURCE and print it (once: only its hash is kept)."""
    from etl.api.tokens import create_token
    from geo.errors import EgisError

    try:
        token = create_token(writer_engine(), source, [k.strip() for k in kinds.split(",") if k.strip()], expires_days)
    except EgisError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)


@tokens.command("revoke")
@click.option("--source", required=True, help="Revoke every active token of this source.")
def tokens_revoke(source: str) -> None:
    """Revoke the tokens of a source (its devices get 401 from now on)."""
    from etl.api.tokens import revoke_tokens

    count = revoke_tokens(writer_engine(), source)
    click.echo(f"revoked {count} token(s) of {source}")
    if count == 0:
        raise click.exceptions.Exit(1)


@tokens.command("list")
def tokens_list() -> None:
    """Every token: source, kinds, created, expires, revoked (never the token)."""
    from etl.api.tokens import list_tokens

    table = Table(title="ingest tokens")
    for column in ("id", "source", "kinds", "created", "expires", "revoked"):
        table.add_column(column)
    for row in list_tokens(writer_engine()):
        table.add_row(
            str(row["id"]),
            row["source"],
            ",".join(row["kinds"]),
            f"{row['created_at']:%Y-%m-%d %H:%M}",
            f"{row['expires_at']:%Y-%m-%d %H:%M}" if row["expires_at"] else "",
            f"{row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "",
        )
    console.print(table)


def _when(value: str | None) -> dt.datetime:
    """A command-line time (ISO 8601; without offset: the region's local time); now when omitted."""
    if not value:
        return dt.datetime.now(dt.UTC)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (2026-11-30T08:00)") from None
    return when if when.tzinfo else when.replace(tzinfo=get_region().tz)


@main.group()
def devices() -> None:
    """The device registry: which officer or vehicle holds a vendor device (IMEI, 执法记录仪) when."""


@devices.command("add")
@click.argument("device")
@click.option("--kind", type=click.Choice(["patrol", "sanitation"]), default="patrol", show_default=True)
@click.option("--subject", required=True, help="The street chief's code (patrol) or the vehicle plate (sanitation).")
@click.option(
    "--from", "valid_from", default=None, help="Held from (ISO 8601, local time without offset; default now)."
)
@click.option("--source", default="cli", show_default=True, help="Who registers it (a vendor, a file).")
def devices_add(device: str, kind: str, subject: str, valid_from: str | None, source: str) -> None:
    """Give DEVICE to SUBJECT from a time on (a handover closes the previous holder's period)."""
    from etl.devices import assign_device
    from geo.errors import EgisError

    try:
        with writer_engine().begin() as conn:
            done = assign_device(conn, device, kind, subject, _when(valid_from), source)
    except EgisError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{device}: {done} ({kind} {subject})")


@devices.command("retire")
@click.argument("device")
@click.option("--at", default=None, help="End of the holding (ISO 8601, local time without offset; default now).")
def devices_retire(device: str, at: str | None) -> None:
    """End the current holding of DEVICE (lost, broken, returned); its history stays."""
    from etl.devices import retire_device
    from geo.errors import EgisError

    try:
        with writer_engine().begin() as conn:
            retire_device(conn, device, _when(at))
    except EgisError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{device}: retired")


@devices.command("list")
@click.argument("device", required=False)
def devices_list(device: str | None) -> None:
    """Every registered device (or the history of DEVICE): holder and period."""
    from etl.devices import list_devices

    tz = get_region().tz
    table = Table(title="devices")
    for column in ("device", "kind", "subject", "from", "to", "source"):
        table.add_column(column)
    with writer_engine().connect() as conn:
        for row in list_devices(conn, device):
            table.add_row(
                row["device_id"],
                row["subject_kind"],
                row["subject_id"],
                f"{row['valid_from'].astimezone(tz):%Y-%m-%d %H:%M}",
                f"{row['valid_to'].astimezone(tz):%Y-%m-%d %H:%M}" if row["valid_to"] else "",
                row["source"] or "",
            )
    console.print(table)


@main.command()
@click.option(
    "--speed", default=10.0, show_default=True, help="Simulated seconds per real second until now (at least)."
)
@click.option(
    "--api", "api_url", default=None, help="Base URL of the API (default http://EGIS_API_HOST:EGIS_API_PORT)."
)
@click.option("--token", default=None, help="Bearer token (default: a new token of source 'simulator').")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Demo raw folder (default the demo's).")
@click.option(
    "--backfill-hours", type=float, default=None, help="Start the replay this long before now (default: at midnight)."
)
@click.option(
    "--catch-up-s",
    default=30.0,
    show_default=True,
    help="Catch up with now within this many seconds (faster than --speed if needed).",
)
@click.option("--until-now", is_flag=True, help="Stop once the replay has caught up with now.")
def simulate(
    speed: float,
    api_url: str | None,
    token: str | None,
    data: Path | None,
    backfill_hours: float | None,
    catch_up_s: float,
    until_now: bool,
) -> None:
    """Replay the demo's latest GPS day and its case events through the ingest API, like devices."""
    from etl.api.tokens import create_token
    from etl.demo import demo_folder
    from etl.demo.planned_patrols import live_folder
    from etl.demo.simulate import Simulator, case_items, gps_items
    from geo.settings import get_settings

    settings = get_settings()
    raw = data or demo_folder() / "raw"
    region = get_region()
    day, items = gps_items(raw / "gps", region)
    if day is None:
        raise click.ClickException(f"no GPS tracks under {raw / 'gps'}; run 'python -m etl demo' first")
    items += case_items(raw / "cases", day, region)
    live = live_folder(raw.parent, dt.datetime.now(region.tz).date())
    if live.is_dir():  # today's chiefs follow today's approved plans, in part
        items += gps_items(live, region)[1]
    token = token or create_token(writer_engine(), "simulator", ["gps", "cases"], expires_days=2)
    url = api_url or f"http://{settings.api_host}:{settings.api_port}"
    click.echo(f"replaying {day} ({len(items)} fixes and events) onto today at {speed:g}x through {url}")
    simulator = Simulator(url, token, region, speed, backfill_hours, catch_up_s=catch_up_s)
    result = simulator.run(items, until_now=until_now)
    click.echo(" ".join(f"{k}={v}" for k, v in result.items()))


@main.command("demo-services")
def demo_services_command() -> None:
    """Run the demo's services together (dashboard, ingest API, warnings, simulator); Ctrl-C stops them all."""
    from etl.demo.services import demo_services, run_services

    raise click.exceptions.Exit(run_services(demo_services()))


if __name__ == "__main__":
    run_cli(main)
