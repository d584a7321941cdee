"""Patrol tracks in GPX (one file per street chief per day): lxml XPath over regular files, ``iterparse`` otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lxml import etree

from etl.gps.fixes import NAT, FileFixes, epoch_ns, parse_numbers
from geo.errors import InputError

WHOLE_FILE_LIMIT = 64 << 20  # files up to this size are parsed at once (C speed); larger ones are streamed
_XPATH = {
    "points": "count(//g:trkpt)",
    "in_tracks": "count(//g:trk//g:trkpt)",
    "timed": "count(//g:trkpt[g:time])",
    "times": "count(//g:trkpt/g:time)",
    "lat": "//g:trkpt/@lat",
    "lon": "//g:trkpt/@lon",
    "time": "//g:trkpt/g:time/text()",
}


def _whole_file(path: Path, default_subject: str) -> tuple[list, list, list, list, list] | None:
    """Parse a regular file at once and pull the columns with XPath; None when the file is irregular.

    Regular: every track point has ``lat``, ``lon`` and exactly one ``<time>`` and lies in a ``<trk>``.
    """
    root = etree.parse(str(path), etree.XMLParser(huge_tree=True)).getroot()
    tag = root.tag
    if not tag.startswith("{"):
        return None
    ns = {"g": tag[1 : tag.index("}")]}
    points = int(root.xpath(_XPATH["points"], namespaces=ns))
    if any(int(root.xpath(_XPATH[q], namespaces=ns)) != points for q in ("in_tracks", "timed", "times")):
        return None  # a point outside a track, without a time or with two
    lats = root.xpath(_XPATH["lat"], namespaces=ns, smart_strings=False)
    lons = root.xpath(_XPATH["lon"], namespaces=ns, smart_strings=False)
    times = [t.strip() for t in root.xpath(_XPATH["time"], namespaces=ns, smart_strings=False)]
    if not (len(lats) == len(lons) == len(times) == points):
        return None  # e.g. an empty <time/>
    names: list[str] = []
    lines: list[int] = []
    trkpt = f"{{{ns['g']}}}trkpt"
    for track in root.iterfind("g:trk", ns):
        name = (track.findtext("g:name", namespaces=ns) or "").strip() or default_subject
        sourcelines = [point.sourceline or 0 for point in track.iter(trkpt)]
        names += [name] * len(sourcelines)
        lines += sourcelines
    if len(lines) != points:
        return None
    return lats, lons, times, names, lines


def _streamed(path: Path, default_subject: str) -> tuple[list, list, list, list, list]:
    """Stream the file with ``iterparse`` (any layout, any size)."""
    lats: list[str | None] = []
    lons: list[str | None] = []
    times: list[str | None] = []
    names: list[str] = []
    lines: list[int] = []
    track_name: str | None = None
    for event, element in etree.iterparse(
        str(path), events=("start", "end"), tag=("{*}trk", "{*}trkpt", "{*}name"), huge_tree=True
    ):
        tag = element.tag
        local = tag[tag.rfind("}") + 1 :]
        if local == "trkpt":
            if event == "end":
                lats.append(element.get("lat"))
                lons.append(element.get("lon"))
                times.append(element.findtext(tag[: tag.rfind("}") + 1] + "time"))
                names.append(track_name or default_subject)
                lines.append(element.sourceline or 0)
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del element.getparent()[0]
        elif local == "trk" and event == "start":
            track_name = None
        elif event == "end" and local == "name":
            parent = element.getparent()
            if parent is not None and parent.tag.endswith("trk"):
                track_name = (element.text or "").strip() or None
    return lats, lons, times, names, lines


def read_gpx(path: Path, default_subject: str, subject_kind: str = "patrol") -> FileFixes:
    """Read every ``<trkpt>`` of a GPX file (1.0 or 1.1) as WGS-84 fixes.

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
    try:
        columns = None
        if path.stat().st_size <= WHOLE_FILE_LIMIT:
            columns = _whole_file(path, default_subject)
        lats, lons, times, names, lines = columns or _streamed(path, default_subject)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"cannot read {path}: not well-formed GPX/XML ({exc})") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc

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
