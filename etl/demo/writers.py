"""File writers of the demo, byte-identical for the same input (fixed zip, XLSX and DBF timestamps)."""

from __future__ import annotations

import datetime as dt
import io
import json
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


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_xlsx(path: Path, frame: pd.DataFrame, sheet: str, stamp: dt.datetime) -> None:
    """An XLSX of text cells (inline strings), as export libraries of case systems write them.

    Written directly as SpreadsheetML (openpyxl takes ~15 µs a cell; this is ~10× faster), with
    fixed timestamps, so the same frame gives the same bytes. Empty strings are empty cells.
    """
    letters = [_column_letter(i) for i in range(len(frame.columns))]
    lines = []
    values = [list(frame.columns), *frame.astype(str).itertuples(index=False, name=None)]
    for number, row in enumerate(values, start=1):
        cells = "".join(
            f'<c r="{col}{number}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
            for col, value in zip(letters, row, strict=True)
            if value != ""
        )
        lines.append(f'<row r="{number}">{cells}</row>')
    last = f"{letters[-1]}{len(values)}" if letters else "A1"
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{last}"/><sheetData>' + "".join(lines) + "</sheetData></worksheet>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>export</dc:creator>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{iso}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{iso}</dcterms:modified></cp:coreProperties>'
    )
    parts = {
        **_XLSX_PARTS,
        "docProps/core.xml": core,
        "xl/workbook.xml": workbook,
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    path.write_bytes(_zip_entries([(name, text.encode("utf-8")) for name, text in parts.items()], stamp))


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
