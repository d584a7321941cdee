"""Printing ETL results for people: the summary table after a load, run and reject listings."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from etl.runs import RunReport

console = Console(stderr=False)


def print_summary(reports: Iterable[RunReport]) -> None:
    """The table printed at the end of every load: read / loaded / rejected / time per run."""
    table = Table(title="ETL summary")
    for column in ("run", "job", "source", "status", "read", "loaded", "rejected", "time (s)"):
        table.add_column(
            column, justify="right" if column in {"run", "read", "loaded", "rejected", "time (s)"} else "left"
        )
    warnings: list[str] = []
    reports_seen = list(reports)
    for report in reports_seen:
        table.add_row(
            str(report.run_id),
            report.job,
            report.source_path,
            report.status,
            str(report.read),
            str(report.loaded),
            str(report.rejected),
            f"{report.seconds:.2f}",
        )
        warnings += [f"run {report.run_id}: {w}" for w in report.warnings]
    console.print(table)
    for report in reports_seen:
        if changed := changed_summary(report.stats):
            console.print(f"run {report.run_id}: stored records changed: {changed} (old values in change_history)")
        _print_geocode_levels(report)
    for warning in warnings:
        console.print(f"[yellow]warning[/yellow] {warning}")


def _print_geocode_levels(report: RunReport) -> None:
    """Share of cases at each geocode level, for runs that geocode (the cases job)."""
    levels = report.stats.get("geocode_levels")
    if not levels:
        return
    total = sum(levels.values()) or 1
    table = Table(title=f"run {report.run_id}: geocode levels")
    for column in ("level", "cases", "share"):
        table.add_column(column, justify="left" if column == "level" else "right")
    for level, count in levels.items():
        table.add_row(level, str(count), f"{count / total:.1%}")
    console.print(table)


def changed_summary(stats: dict) -> str:
    """``3 (status 2, address 1)``: stored records a run changed, and how many of them per field."""
    fields = stats.get("changed_fields") or {}
    if not stats.get("updated") or not isinstance(fields, dict):
        return ""
    listed = ", ".join(f"{name} {count}" for name, count in fields.items())
    return f"{stats['updated']} ({listed})" if listed else str(stats["updated"])
