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
    for report in reports:
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
    for warning in warnings:
        console.print(f"[yellow]warning[/yellow] {warning}")
