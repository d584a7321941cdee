"""The rows of the table files of a load, each with its column mapping applied and its original kept for rejects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from etl.mapping import Mapping
from etl.readers.input_files import SourceFile
from etl.readers.tabular import read_table


@dataclass(frozen=True)
class TableRow:
    """One data row: where it came from, as read, as mapped, and why it cannot be loaded (or None)."""

    source: str  # the file as the user names it (``a.zip!b.csv``)
    number: int  # its row number in the file
    original: dict[str, Any]
    row: dict[str, Any]  # mapped to the kind's canonical columns
    problem: str | None  # e.g. a cell longer than the limit


def table_rows(files: Iterable[SourceFile], mapping: Mapping) -> Iterator[TableRow]:
    """Every row of every table file in ``files``, mapped by ``mapping`` (raises what :func:`read_table` raises)."""
    for source in files:
        table = read_table(source.path, encoding=source.encoding, name=source.name)
        frame = mapping.apply(table.frame, source.name)
        originals = table.frame.to_dict("records")
        for i, row in enumerate(frame.to_dict("records")):
            yield TableRow(source.name, table.row_number(i), originals[i], row, table.problems.get(i))
