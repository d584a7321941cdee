"""Patrol tracks in GPX (a file per street chief per day) as fixes: positions and times parsed, bad points set aside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from etl.gps.fixes import NAT, FileFixes, epoch_ns, parse_numbers
from etl.readers.gpx import read_track_points


def read_gpx_fixes(path: Path, default_subject: str, subject_kind: str = "patrol") -> FileFixes:
    """Every ``<trkpt>`` of a GPX file (1.0 or 1.1, read by :func:`etl.readers.gpx.read_track_points`) as WGS-84 fixes.

    The subject is the ``<name>`` of the ``<trk>`` holding the point, else ``default_subject``
    (the folder name in the ``patrol/<chief_code>/<date>.gpx`` layout). Times without a zone
    are UTC, as GPX prescribes.

    Parameters
    ----------
    path
        The GPX file.
    default_subject
        Subject of tracks that carry no name.
    subject_kind
        ``patrol`` (the default) or ``sanitation``.

    Returns
    -------
    FileFixes
        Valid fixes; points without a usable time or position are in ``rejects``.

    Raises
    ------
    InputError
        When the file is not well-formed XML; names the file, the line and the cause.
    """
    points = read_track_points(path, default_subject)
    lats, lons, times, names, lines = points.lat, points.lon, points.time, points.subject, points.line
    lat = parse_numbers(lats)
    lon = parse_numbers(lons)
    parsed = pd.to_datetime(pd.Series(times, dtype=object), utc=True, format="ISO8601", errors="coerce")
    ts = epoch_ns(parsed)
    valid_position = ~np.isnan(lat) & ~np.isnan(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    valid_time = ts != NAT

    def raw(positions: np.ndarray) -> list[dict[str, Any]]:
        return [
            {"subject": names[p], "lat": lats[p], "lon": lons[p], "time": times[p], "line": lines[p]}
            for p in positions.tolist()
        ]

    bad = np.flatnonzero(~(valid_position & valid_time))
    rejects = [
        (
            lines[pos],
            content,
            "track point without a valid lat/lon"
            if not valid_position[pos]
            else f"track point without a valid <time> ({times[pos]!r})",
        )
        for pos, content in zip(bad.tolist(), raw(bad), strict=True)
    ]
    keep = valid_position & valid_time
    frame = pd.DataFrame(
        {
            "subject": np.asarray(names, dtype=object)[keep],
            "ts": ts[keep],
            "x": lon[keep],
            "y": lat[keep],
            "speed": np.full(int(keep.sum()), np.nan),
            "heading": np.full(int(keep.sum()), np.nan),
            "row": np.asarray(lines, dtype=np.int64)[keep],
            "pos": np.flatnonzero(keep),
        }
    )
    return FileFixes(
        path=path,
        subject_kind=subject_kind,
        frame=frame,
        read=len(lats),
        raw=raw,
        source_crs="EPSG:4326",
        rejects=rejects,
    )
