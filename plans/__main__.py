"""Command line of the planner: ``python -m plans plan ...`` and ``python -m plans graph``.

Exit codes: 0 a full plan; 3 a partial plan (written, with the reasons on stderr); 2 no plan
possible (the reason on stderr); 1 any other project error.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from geo.cli import run_cli
from geo.db import writer_engine
from plans.errors import PlanError
from plans.export import to_geojson, to_gpx
from plans.graph import TRAP_LABELS, ensure_graph, network_pieces
from plans.planner import SHIFTS, PlanRequest, make_plan

EXIT_PARTIAL = 3
EXIT_NO_PLAN = 2


@click.group()
def main() -> None:
    """Patrol plans for squad leaders: routes per street chief on the street network."""


@main.command()
@click.option("--squad", required=True, help="squad code, e.g. ZD03")
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="plan date")
@click.option("--shift", type=click.Choice(list(SHIFTS)), default="day", show_default=True)
@click.option("--chiefs", default="", help="chief codes, comma-separated (default: the squad's active chiefs)")
@click.option("--minutes", type=int, default=120, show_default=True, help="patrol time per chief")
@click.option("--mode", default="foot", show_default=True, help="foot, ebike or car")
@click.option("--start", default=None, help="start lon,lat (WGS-84) instead of the squad station")
@click.option("--time-limit", type=float, default=2.0, show_default=True, help="solver seconds")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="GeoJSON file (default stdout)")
@click.option("--gpx-dir", type=click.Path(file_okay=False, path_type=Path), help="write one GPX per chief here")
@click.option("--save", "author", default=None, help="store the plan as a draft version by this author")
def plan(
    squad: str,
    day: dt.datetime,
    shift: str,
    chiefs: str,
    minutes: int,
    mode: str,
    start: str | None,
    time_limit: float,
    output: Path | None,
    gpx_dir: Path | None,
    author: str | None,
) -> None:
    """Make a plan and write it as GeoJSON (one route LineString per chief, stops and times as properties)."""
    point = None
    if start:
        try:
            lon, lat = (float(v) for v in start.split(","))
        except ValueError:
            raise click.BadParameter("--start needs lon,lat", param_hint="--start") from None
        point = (lon, lat)
    request = PlanRequest(
        squad=squad,
        date=day.date(),
        shift=shift,
        chiefs=tuple(c.strip() for c in chiefs.split(",") if c.strip()),
        minutes=minutes,
        mode=mode,
        start=point,
        time_limit_s=time_limit,
    )
    engine = writer_engine()
    try:
        with engine.begin() as conn:
            result = make_plan(conn, request)
            if author:
                from plans.store import save_plan

                plan_id, version = save_plan(conn, result, author)
                click.echo(f"saved plan {plan_id} version {version}", err=True)
    except PlanError as exc:
        click.echo(f"no plan: {exc}", err=True)
        sys.exit(EXIT_NO_PLAN)
    text = json.dumps(to_geojson(result), ensure_ascii=False, indent=1)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text)
    if gpx_dir:
        gpx_dir.mkdir(parents=True, exist_ok=True)
        for route in result.routes:
            (gpx_dir / f"{route.chief_code}.gpx").write_text(to_gpx(result, route.chief_code), encoding="utf-8")
    summary = result.summary
    click.echo(
        f"{summary['chiefs']} chiefs, {summary['stops']} stops, {summary['length_km']} km, "
        f"hot-street share {summary['hot_share']:.1%}",
        err=True,
    )
    for message in result.messages:
        click.echo(f"partial: {message}", err=True)
    if result.messages:
        sys.exit(EXIT_PARTIAL)


@main.command()
@click.option("--squad", default=None, help="report the pieces this squad's streets lie in")
@click.option("--force", is_flag=True, help="rebuild even when the streets did not change")
def graph(squad: str | None, force: bool) -> None:
    """Build (if the streets changed) and check the routing graph; report disconnected pieces and one-way traps."""
    partial = False
    with writer_engine().begin() as conn:  # leave the block before exiting: a rebuild is kept
        info = ensure_graph(conn, force=force)
        click.echo(
            f"graph {'rebuilt' if info.rebuilt else 'current'}: {info.nodes} nodes, {info.edges} edges, "
            f"{info.components} connected piece(s)"
        )
        if squad:
            pieces = network_pieces(conn, squad)
            for piece in pieces:
                names = "、".join(piece["names"] or [])
                click.echo(f"  piece {piece['piece']}: {piece['segments']} segments, {piece['km']} km ({names})")
                for trap in piece["traps"]:
                    click.echo(
                        f"    one-way {trap['kind']} ({TRAP_LABELS[trap['kind']]}): {len(trap['segments'])} segments, "
                        f"{trap['km']} km ({'、'.join(trap['labels'][:5])})"
                    )
            traps = sum(len(p["traps"]) for p in pieces)
            if len(pieces) > 1 or traps:
                click.echo(f"squad {squad}: street network in {len(pieces)} pieces, {traps} one-way trap(s)", err=True)
                partial = True
    if partial:
        sys.exit(EXIT_PARTIAL)


if __name__ == "__main__":
    run_cli(main)
