"""The in-memory form of GPS fixes read from one file, before and after cleaning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Columns of a fixes frame (one row per fix):
#   subject  str      chief code or vehicle plate
#   ts       int64    nanoseconds since the epoch, UTC
#   lon, lat float64  WGS-84
#   x, y     float64  metres in the region's metric CRS
#   speed    float64  m/s as reported (NaN when not reported)
#   heading  float64  degrees clockwise from north as reported (NaN when not reported)
#   file     int32    index of the source file in the load
#   row      int64    line (GPX) or row (CSV) number in the file
FRAME_COLUMNS = ("subject", "ts", "lon", "lat", "x", "y", "speed", "heading", "file", "row")


@dataclass
class FileFixes:
    """Fixes read from one file, with what could not be parsed already set aside.

    Attributes
    ----------
    path
        The file.
    subject_kind
        ``patrol`` or ``sanitation``.
    frame
        Valid fixes: ``subject``, ``ts``, ``x``, ``y`` (source CRS), ``speed``, ``heading``, ``row``, ``pos``.
    read
        Rows (track points or table rows) read from the file.
    rejects
        ``(row, raw, reason)`` of rows that could not be parsed.
    raw
        ``raw(positions)`` gives the raw content of the fixes at ``positions`` (column ``pos`` of
        ``frame``), for rejects.
    source_crs
        The CRS the coordinates arrived in.
    """

    path: Path
    subject_kind: str
    frame: pd.DataFrame
    read: int
    raw: Callable[[np.ndarray], list[dict[str, Any]]]
    source_crs: str
    rejects: list[tuple[int | None, dict[str, Any], str]] = field(default_factory=list)


def parse_numbers(values: list[str] | pd.Series) -> np.ndarray:
    """Text to float64; anything unparseable or not finite becomes NaN."""
    try:
        numbers = np.array(values, dtype=float)  # fast when every value is a plain number
    except (ValueError, TypeError):
        numbers = np.array(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), dtype=float)
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers


def epoch_ns(times: pd.DatetimeIndex | pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (UTC) of timezone-aware datetimes; NaT becomes ``NAT``."""
    values = pd.DatetimeIndex(times).tz_convert("UTC").as_unit("ns")
    return values.asi8.copy()


NAT = np.iinfo(np.int64).min
