"""Progress bars for long ETL work (rich), shown only when the output is a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from etl.report import console

T = TypeVar("T")


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate ``items`` with a progress bar labelled ``description`` (silent when not on a terminal)."""
    items = list(items) if total is None and not hasattr(items, "__len__") else items
    count = total if total is not None else len(items)  # type: ignore[arg-type]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=count)
        for item in items:
            yield item
            progress.advance(task)


@contextmanager
def stage(description: str) -> Iterator[None]:
    """Show a spinner with ``description`` while a long step runs (silent when not on a terminal)."""
    if not console.is_terminal:
        yield
        return
    with console.status(description):
        yield
