"""Vehicle GPS exports in CSV/XLSX (sanitation trucks): local times, often GCJ-02 coordinates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from etl.gps.fixes import NAT, FileFixes, epoch_ns, parse_numbers
from etl.mapping import Mapping
from etl.readers.tabular import read_table


def parse_local_times(values: pd.Series, timezone: str) -> np.ndarray:
    """Local wall-clock text (``YYYY-MM-DD HH:MM:SS``, ``YYYY/MM/DD …``, or with an explicit offset) to UTC ns.

    Text that carries its own offset keeps it; text without one is local time in ``timezone``.
    Unparseable text becomes ``NAT``.
    """
    text = values.astype(str).str.strip()
    has_zone = text.str.contains(r"(?:[zZ]|[+-]\d\d:?\d\d)$", regex=True)
    result = np.full(len(text), NAT, dtype=np.int64)
    local = text[~has_zone]
    if len(local):
        parsed = pd.to_datetime(local.str.replace("/", "-", regex=False), format="ISO8601", errors="coerce")
        bad = parsed.isna() & (local != "")
        if bad.any():
            parsed[bad] = pd.to_datetime(local[bad], format="mixed", errors="coerce")
        localized = pd.DatetimeIndex(parsed).tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        result[~has_zone.to_numpy()] = epoch_ns(localized)
    if has_zone.any():
        parsed = pd.to_datetime(text[has_zone], utc=True, format="ISO8601", errors="coerce")
        result[has_zone.to_numpy()] = epoch_ns(parsed)
    return result


def read_vehicle_table(
    path: Path,
    mapping: Mapping,
    *,
    crs: str,
    timezone: str,
    subject_kind: str = "sanitation",
    encoding: str | None = None,
) -> FileFixes:
    """Read a vehicle GPS table: plate, local time, lon/lat in ``crs``, speed (km/h) and heading.

    Parameters
    ----------
    path
        A CSV or XLSX export.
    mapping
        The ``gps`` column mapping (headers → ``subject_id``, ``ts``, ``lon``, ``lat``, ``speed_kmh``, ``heading``).
    crs
        The CRS of the coordinates (recorded; converted later).
    timezone
        Zone of times written without an offset.
    encoding
        The CSV's declared encoding; ``None``: detected.

    Raises
    ------
    InputError
        When the file cannot be read (names the file); ValidationError when a required column is missing.
    """
    table = read_table(path, encoding=encoding)
    frame = mapping.apply(table.frame, str(path))
    n = len(frame)
    subject = frame["subject_id"].astype(str).str.strip().to_numpy(dtype=object)
    x = parse_numbers(frame["lon"])
    y = parse_numbers(frame["lat"])
    ts = parse_local_times(frame["ts"], timezone)
    speed = parse_numbers(frame["speed_kmh"]) / 3.6 if "speed_kmh" in frame else np.full(n, np.nan)
    heading = parse_numbers(frame["heading"]) if "heading" in frame else np.full(n, np.nan)
    speed[(speed < 0) | (speed > 100)] = np.nan
    heading[(heading < 0) | (heading > 360)] = np.nan
    rows = table.row_number(0) + np.arange(n, dtype=np.int64)
    source = table.frame

    def raw(positions: np.ndarray) -> list[dict[str, Any]]:
        return [{str(k): v for k, v in r.items()} for r in source.iloc[positions].to_dict("records")]

    problems = np.full(n, "", dtype=object)
    problems[np.isnan(y)] = "row without a valid latitude"
    problems[np.isnan(x)] = "row without a valid longitude"
    problems[ts == NAT] = "row without a valid time"
    problems[subject == ""] = "row without a vehicle (subject)"
    for position, reason in table.problems.items():  # e.g. a cell longer than the limit
        problems[position] = reason
    bad = problems != ""
    where = np.flatnonzero(bad)
    rejects = [(int(rows[pos]), content, str(problems[pos])) for pos, content in zip(where, raw(where), strict=True)]
    keep = ~bad
    fixes = pd.DataFrame(
        {
            "subject": subject[keep],
            "ts": ts[keep],
            "x": x[keep],
            "y": y[keep],
            "speed": speed[keep],
            "heading": heading[keep],
            "row": rows[keep],
            "pos": np.flatnonzero(keep),
        }
    )
    return FileFixes(
        path=path, subject_kind=subject_kind, frame=fixes, read=n, raw=raw, source_crs=crs, rejects=rejects
    )
