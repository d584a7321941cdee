"""File writers of the demo, byte-identical for the same input (fixed zip, XLSX and DBF timestamps)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd


def _zip_entries(entries: Iterable[tuple[str, bytes]], stamp: dt.datetime) -> bytes:
    """A zip of (name, data) entries, every entry with the same timestamp and permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def normalize_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite a zip (e.g. an XLSX) with fixed entry timestamps and fixed document dates."""
    entries = []
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            if name == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", rf"\g<1>{iso}\g<3>", text)
                content = text.encode("utf-8")
            entries.append((name, content))
    return _zip_entries(entries, stamp)


def write_shapefile_zip(path: Path, frame, stamp: dt.datetime, layer: str) -> None:
    """A zipped ESRI Shapefile with GBK-encoded attributes, a .cpg and a .prj (the frame's CRS)."""
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{layer}.shp"
        pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile", encoding="GBK")
        dbf = shp.with_suffix(".dbf")
        raw = bytearray(dbf.read_bytes())
        raw[1:4] = bytes([stamp.year - 1900, stamp.month, stamp.day])  # DBF "last update" date
        dbf.write_bytes(bytes(raw))
        cpg = shp.with_suffix(".cpg")
        cpg.write_text("GBK", encoding="ascii")
        files = sorted(Path(tmp).iterdir())
        path.write_bytes(_zip_entries([(f.name, f.read_bytes()) for f in files], stamp))


def write_geojson(path: Path, features: list[dict]) -> None:
    """A GeoJSON FeatureCollection (WGS-84, coordinates rounded to 7 decimals)."""
    collection = {"type": "FeatureCollection", "name": path.stem, "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def write_csv(path: Path, frame: pd.DataFrame, encoding: str) -> None:
    """A CSV with Windows line ends, as exported by Chinese office software (``gbk`` or ``utf-8-sig``)."""
    text = frame.to_csv(index=False, lineterminator="\r\n")
    path.write_bytes(text.encode(encoding))


def write_xlsx(path: Path, frame: pd.DataFrame, sheet: str, stamp: dt.datetime) -> None:
    """An XLSX of string cells (as the case system exports them), byte-identical for the same frame."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    workbook.properties.creator = "export"
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        worksheet.append([None if v == "" else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(normalize_zip(buffer.getvalue(), stamp))


def write_source_toml(folder: Path, crs: str, timezone: str = "Asia/Shanghai") -> None:
    """The per-folder source config the ETL reads (coordinate system and time zone of the files)."""
    (folder / "source.toml").write_text(f'crs = "{crs}"\ntimezone = "{timezone}"\n', encoding="utf-8")


def kml_document(name: str, placemarks: list[tuple[str, dict[str, str], np.ndarray]]) -> str:
    """A KML document of LineString placemarks with ExtendedData (coordinates as given, lon,lat)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2">',
        "<Document>",
        f"<name>{escape(name)}</name>",
        '<Style id="route"><LineStyle><color>ff0000ff</color><width>4</width></LineStyle></Style>',
    ]
    for title, data, coords in placemarks:
        text = " ".join(f"{x:.6f},{y:.6f},0" for x, y in coords)
        extended = "".join(f'<Data name="{escape(k)}"><value>{escape(v)}</value></Data>' for k, v in data.items())
        out.append(
            f"<Placemark><name>{escape(title)}</name><styleUrl>#route</styleUrl>"
            f"<ExtendedData>{extended}</ExtendedData>"
            f"<LineString><tessellate>1</tessellate><coordinates>{text}</coordinates></LineString></Placemark>"
        )
    out += ["</Document>", "</kml>", ""]
    return "\n".join(out)


def gpx_document(name: str, times: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> str:
    """A GPX 1.1 track (times UTC, ISO-8601 with Z) as a phone app writes it."""
    stamps = np.char.add(np.datetime_as_string(times.astype("datetime64[s]"), unit="s"), "Z")
    lines = [
        f'<trkpt lat="{y:.7f}" lon="{x:.7f}"><time>{s}</time></trkpt>'
        for x, y, s in zip(lon.tolist(), lat.tolist(), stamps.tolist(), strict=True)
    ]
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="街路长巡查" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"<metadata><time>{stamps[0] if len(stamps) else ''}</time></metadata>\n"
        f"<trk><name>{escape(name)}</name><trkseg>\n"
    )
    return head + "\n".join(lines) + "\n</trkseg></trk>\n</gpx>\n"
