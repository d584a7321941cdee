"""KML and KMZ (Google Earth, 奥维互动地图, GDAL exports): placemarks with name, description and ExtendedData.

Parsed with lxml rather than GDAL because GDAL's LIBKML driver mangles non-ASCII ExtendedData
field names (路线编号 → ``______``). Handles ``Data``/``value`` and ``SchemaData``/``SimpleData``,
Point, LineString, LinearRing, Polygon, MultiGeometry and ``gx:Track``; the folder path of each
placemark is kept in ``_folder``. Coordinates are taken as the file says: WGS-84 by the KML
standard, though Chinese apps often write GCJ-02 (declare it with ``--crs`` or ``source.toml``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree
from shapely.geometry import LinearRing, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from etl.readers.layer import Layer, geo_frame
from etl.readers.limits import ArchiveBudget, check_members, oversized_cells, read_member
from geo.errors import InputError

KML_SUFFIXES = {".kml", ".kmz"}


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if _local(c.tag) == name]


def _text(element: etree._Element, name: str) -> str | None:
    found = _children(element, name)
    if not found or found[0].text is None:
        return None
    return found[0].text.strip()


def _coords(text: str | None) -> list[tuple[float, float]]:
    points = []
    for token in (text or "").split():
        parts = token.split(",")
        points.append((float(parts[0]), float(parts[1])))
    return points


def _geometry(element: etree._Element) -> BaseGeometry | None:
    """The first geometry below a placemark (MultiGeometry → the matching multi type)."""
    name = _local(element.tag)
    if name == "Point":
        coords = _coords(_text(element, "coordinates"))
        return Point(coords[0]) if coords else Point()
    if name == "LineString":
        return LineString(_coords(_text(element, "coordinates")))
    if name == "LinearRing":
        return LinearRing(_coords(_text(element, "coordinates")))
    if name == "Polygon":
        rings = []
        for boundary in ("outerBoundaryIs", "innerBoundaryIs"):
            for b in _children(element, boundary):
                for ring in _children(b, "LinearRing"):
                    rings.append(_coords(_text(ring, "coordinates")))
        return Polygon(rings[0], rings[1:]) if rings else Polygon()
    if name == "Track":
        coords = [tuple(map(float, c.text.split()[:2])) for c in element if _local(c.tag) == "coord" and c.text]
        return LineString(coords)
    if name in {"MultiGeometry", "MultiTrack"}:
        parts = [g for g in (_geometry(c) for c in element) if g is not None]
        if parts and all(isinstance(p, Point) for p in parts):
            return MultiPoint(parts)
        if parts and all(isinstance(p, LineString) for p in parts):
            return MultiLineString(parts)
        if parts and all(isinstance(p, Polygon) for p in parts):
            return MultiPolygon(parts)
        from shapely.geometry import GeometryCollection

        return GeometryCollection(parts)
    return None


def _extended(placemark: etree._Element) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for ext in _children(placemark, "ExtendedData"):
        for item in ext.iter():
            local = _local(item.tag)
            if local == "Data" and item.get("name"):
                value = _text(item, "value")
                fields[item.get("name")] = value
            elif local == "SimpleData" and item.get("name"):
                fields[item.get("name")] = (item.text or "").strip()
    return fields


def _kml_bytes(path: Path) -> bytes:
    if path.suffix.lower() != ".kmz":
        return path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        members = {m.filename: m for m in check_members(archive, str(path)) if m.filename.lower().endswith(".kml")}
        if not members:
            raise InputError(f"cannot read {path}: the KMZ holds no .kml document")
        main = members.get("doc.kml") or next(iter(members.values()))
        return read_member(archive, main, str(path), ArchiveBudget())


def read_kml(path: Path | str) -> list[Layer]:
    """The placemarks of a KML or KMZ file as one layer (row number = placemark order, from 1).

    A KMZ's document is read within the zip bounds of :mod:`etl.readers.limits`; a placemark with
    a field longer than the limit keeps that reason in the layer's ``problems``.

    Raises
    ------
    InputError
        When the file is not readable KML; the message names the file and the cause.
    """
    path = Path(path)
    try:
        root = etree.fromstring(_kml_bytes(path), etree.XMLParser(recover=False, huge_tree=True))
    except (OSError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise InputError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    records: list[dict[str, Any]] = []
    geoms: list[BaseGeometry | None] = []
    for placemark in root.iter():
        if _local(placemark.tag) != "Placemark":
            continue
        folders = [
            _text(a, "name") or ""
            for a in placemark.iterancestors()
            if _local(a.tag) in {"Folder", "Document"} and _text(a, "name")
        ]
        record: dict[str, Any] = {
            "name": _text(placemark, "name"),
            "description": _text(placemark, "description"),
            "_folder": "/".join(reversed(folders)) or None,
        }
        record.update(_extended(placemark))
        geom = None
        problem = None
        for child in placemark:
            try:
                geom = _geometry(child)
            except (ValueError, IndexError) as exc:
                problem = f"bad KML coordinates: {exc}"
            if geom is not None or problem:
                break
        records.append(record)
        geoms.append(geom)
        if problem:
            record["_problem"] = problem
    frame = pd.DataFrame.from_records(records)
    problems = {}
    if "_problem" in frame:
        problems = {i: p for i, p in frame.pop("_problem").items() if isinstance(p, str)}
    problems.update(oversized_cells(frame))
    return [Layer(geo_frame(frame, geoms), str(path), "EPSG:4326", "utf-8", problems)] if records else []
