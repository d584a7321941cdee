"""CSV and XLSX tables as exported by Chinese office systems: every cell as text, encoding detected.

CSV exports come in GBK/GB18030 (Excel on Chinese Windows) or UTF-8 with or without BOM. The
encoding is detected from the bytes and checked for plausibility (:mod:`etl.readers.encoding`),
never guessed from the file name; a declared encoding wins. Rows with a cell longer than the
limit (:mod:`etl.readers.limits`) are marked in ``Table.problems`` for the job to reject.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from etl.readers.encoding import decode
from etl.readers.limits import check_archive_file, check_header, oversized_cells
from geo.errors import InputError

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


@dataclass(frozen=True)
class Table:
    """A table read from a file: text cells, the encoding, the 1-based file row of each record, rows to reject.

    ``problems`` maps a row position in ``frame`` to why that row cannot be loaded (a cell longer
    than the limit); every job rejects those rows with the reason.
    """

    frame: pd.DataFrame
    encoding: str
    first_data_row: int = 2  # row number in the file of frame.iloc[0] (header is row 1)
    problems: dict[Any, str] = field(default_factory=dict)

    def row_number(self, position: int) -> int:
        """File row number of the record at ``position`` in the frame."""
        return self.first_data_row + position


def read_table(
    path: Path | str, sheet: str | int | None = 0, *, encoding: str | None = None, name: str | None = None
) -> Table:
    """Read a CSV or Excel table with every cell as a stripped string ('' for empty).

    Parameters
    ----------
    path
        A ``.csv``/``.txt``/``.tsv`` or ``.xlsx``/``.xls`` file.
    sheet
        Excel sheet name or index.
    encoding
        The CSV's declared encoding (a Python codec, see :func:`etl.readers.encoding.declared_encoding`);
        ``None``: detected from the bytes.
    name
        How to name the file in messages (``a.zip!b.csv`` for a zip member); default ``path``.

    Raises
    ------
    InputError
        When the file cannot be read at all; the message names the file and the cause.
    """
    path = Path(path)
    shown = name or str(path)
    suffix = path.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            text, encoding = decode(path.read_bytes(), shown, encoding)
            dialect = _sniff(text)
            frame = pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, sep=dialect, engine="c", skipinitialspace=True
            )
        elif suffix in EXCEL_SUFFIXES:
            check_archive_file(path, shown)  # an XLSX is a zip: bound its expansion before calamine opens it
            encoding = "xlsx"
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False, engine="calamine")
        else:
            raise InputError(f"cannot read {shown}: unknown table format {suffix!r} (use CSV or XLSX)")
    except InputError as exc:
        if shown in str(exc):
            raise
        raise InputError(f"cannot read {shown}: {exc}") from exc
    except FileNotFoundError as exc:
        raise InputError(f"cannot read {shown}: file not found") from exc
    except Exception as exc:  # pandas/calamine raise many kinds for broken files
        raise InputError(f"cannot read {shown}: {type(exc).__name__}: {exc}") from exc
    check_header(list(frame.columns), shown)
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame = frame.apply(lambda column: column.astype(str).str.strip())
    return Table(frame=frame, encoding=encoding, problems=oversized_cells(frame))


def _sniff(text: str) -> str:
    """The delimiter of the header line: comma unless the header has none and a tab, semicolon or bar."""
    header = next(csv.reader(io.StringIO(text[:65536])), [])
    if len(header) > 1:
        return ","
    first_line = text.split("\n", 1)[0]
    for delimiter in ("\t", ";", "|"):
        if delimiter in first_line:
            return delimiter
    return ","
