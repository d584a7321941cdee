"""Reading GPX (etl/readers/gpx.py): both parsing paths agree, track names give the subject, bad points set aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.gps.gpx_fixes import read_gpx_fixes
from etl.readers.gpx import _streamed, _whole_file
from geo.errors import InputError

TWO_TRACKS = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <metadata><name>not a subject</name></metadata>
  <trk><name>C010</name><trkseg>
    <trkpt lat="28.895" lon="119.815"><ele>90</ele><time>2025-03-03T00:30:00Z</time></trkpt>
    <trkpt lat="28.8951" lon="119.8151"><time>2025-03-03T08:30:05+08:00</time></trkpt>
  </trkseg></trk>
  <trk><trkseg>
    <trkpt lat="28.896" lon="119.816"><time>2025-03-03T00:31:00Z</time></trkpt>
  </trkseg></trk>
</gpx>
"""


def test_the_fast_and_the_streaming_parser_agree(tmp_path: Path) -> None:
    path = tmp_path / "C099" / "day.gpx"
    path.parent.mkdir()
    path.write_text(TWO_TRACKS, encoding="utf-8")
    fast = _whole_file(path, "C099")
    assert fast is not None
    assert fast == _streamed(path, "C099")
    lats, _lons, times, names, lines = fast
    assert names == ["C010", "C010", "C099"]  # a track without a name belongs to the folder's subject
    assert lines == [5, 6, 9] and lats[2] == "28.896" and times[1] == "2025-03-03T08:30:05+08:00"
    fixes = read_gpx_fixes(path, "C099")
    assert fixes.read == 3 and not fixes.rejects
    # both points of C010 are 5 s apart although one is written in Beijing time
    assert (fixes.frame["ts"].iloc[1] - fixes.frame["ts"].iloc[0]) == 5_000_000_000


def test_a_point_without_time_is_rejected_and_the_rest_read(tmp_path: Path) -> None:
    text = TWO_TRACKS.replace("<time>2025-03-03T00:31:00Z</time>", "")
    path = tmp_path / "day.gpx"
    path.write_text(text, encoding="utf-8")
    assert _whole_file(path, "x") is None  # irregular: read by streaming
    fixes = read_gpx_fixes(path, "x")
    assert fixes.read == 3 and len(fixes.frame) == 2
    assert fixes.rejects == [
        (
            9,
            {"subject": "x", "lat": "28.896", "lon": "119.816", "time": None, "line": 9},
            "track point without a valid <time> (None)",
        )
    ]


def test_broken_xml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.gpx"
    path.write_text(TWO_TRACKS[:300], encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.gpx.*not well-formed"):
        read_gpx_fixes(path, "x")
