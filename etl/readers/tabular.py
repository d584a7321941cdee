"""CSV and XLSX tables as exported by Chinese office systems: every cell as text, encoding detected.

CSV exports come in GBK/GB18030 (Excel on Chinese Windows) or UTF-8 with or without BOM. The
encoding is detected from the bytes, never guessed from the file name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.errors import InputError

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


@dataclass(frozen=True)
class Table:
    """A table read from a file: text cells, the detected encoding, and the 1-based file row of each record."""

    frame: pd.DataFrame
    encoding: str
    first_data_row: int = 2  # row number in the file of frame.iloc[0] (header is row 1)

    def row_number(self, position: int) -> int:
        """File row number of the record at ``position`` in the frame."""
        return self.first_data_row + position


def detect_encoding(data: bytes) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``gb18030`` (a superset of GBK), from the bytes.

    Raises
    ------
    InputError
        When the bytes are none of these.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise InputError(f"text is neither UTF-8 nor GBK/GB18030 (bad byte at offset {exc.start})") from exc


def read_table(path: Path | str, sheet: str | int | None = 0) -> Table:
    """Read a CSV or Excel table with every cell as a stripped string ('' for empty).

    Parameters
    ----------
    path
        A ``.csv``/``.txt``/``.tsv`` or ``.xlsx``/``.xls`` file.
    sheet
        Excel sheet name or index.

    Raises
    ------
    InputError
        When the file cannot be read at all; the message names the file and the cause.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            data = path.read_bytes()
            encoding = detect_encoding(data)
            text = data.decode(encoding)
            dialect = _sniff(text)
            frame = pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, sep=dialect, engine="c", skipinitialspace=True
            )
        elif suffix in EXCEL_SUFFIXES:
            encoding = "xlsx"
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False, engine="calamine")
        else:
            raise InputError(f"cannot read {path}: unknown table format {suffix!r} (use CSV or XLSX)")
    except InputError as exc:
        if str(path) in str(exc):
            raise
        raise InputError(f"cannot read {path}: {exc}") from exc
    except FileNotFoundError as exc:
        raise InputError(f"cannot read {path}: file not found") from exc
    except Exception as exc:  # pandas/calamine raise many kinds for broken files
        raise InputError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame = frame.apply(lambda column: column.astype(str).str.strip())
    return Table(frame=frame, encoding=encoding)


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
