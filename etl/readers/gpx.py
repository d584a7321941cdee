"""GPX files, the one reader: track points with lxml (XPath over regular files, ``iterparse`` otherwise),
and routes and tracks as line features with GDAL.

The GPS job reads the track points (:func:`read_track_points`, turned into fixes by
:mod:`etl.gps.gpx_fixes`); the spatial jobs (e.g. sanitation routes) read the ``routes`` and
``tracks`` layers as lines (:func:`read_gpx_lines`). GPX is WGS-84 by the standard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from etl.readers.layer import Layer
from etl.readers.vector import read_vector
from geo.errors import InputError

GPX_SUFFIXES = {".gpx"}
GPX_LINE_LAYERS = ("routes", "tracks")  # the GDAL layers of lines; track_points are read by read_track_points

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


@dataclass(frozen=True)
class TrackPoints:
    """Every ``<trkpt>`` of a GPX file as written, in file order (one list entry per point).

    Attributes
    ----------
    lat, lon
        The ``lat`` and ``lon`` attributes as text (``None`` where missing).
    time
        The text of the point's ``<time>`` (``None`` where missing).
    subject
        The ``<name>`` of the ``<trk>`` holding the point, else the default subject.
    line
        The point's line in the file.
    """

    lat: list[str | None]
    lon: list[str | None]
    time: list[str | None]
    subject: list[str]
    line: list[int]


def read_track_points(path: Path, default_subject: str) -> TrackPoints:
    """Read every ``<trkpt>`` of a GPX file (1.0 or 1.1) as text, with its track's name and its line.

    Parameters
    ----------
    path
        The GPX file.
    default_subject
        Subject of tracks that carry no name (the folder name in ``patrol/<chief_code>/<date>.gpx``).

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
    return TrackPoints(lats, lons, times, names, lines)


def read_gpx_lines(path: Path) -> list[Layer]:
    """The ``routes`` and ``tracks`` of a GPX file as line layers (GDAL), for the spatial jobs.

    Raises
    ------
    InputError
        When the file cannot be read; the message names the file and the cause.
    """
    return read_vector(path, layers=GPX_LINE_LAYERS)
