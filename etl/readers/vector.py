"""GDAL-readable vector files (Shapefile, GeoPackage, GeoJSON) read with pyogrio, every layer (GPX: etl.readers.gpx).

Shapefile attribute text: a declared encoding (``--encoding``, ``encoding`` in ``source.toml``)
wins; else a ``.cpg`` names the code page and is honoured; without one (and without a code page
byte in the ``.dbf`` header) the text is detected like a CSV's (:mod:`etl.readers.encoding`):
UTF-8 when it is valid UTF-8, GB18030 (a superset of GBK) when that reads as plausible Chinese, and
otherwise the load stops naming the likely encoding (Big5, Shift-JIS); never silently Latin-1.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely

from etl.readers.encoding import detect_encoding
from etl.readers.layer import Layer, geo_frame
from etl.readers.limits import oversized_cells
from geo.crs import normalize_crs
from geo.errors import ConfigError, InputError

VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json"}

# .cpg contents (upper case) → Python codec
_CPG = {
    "GBK": "gb18030",
    "936": "gb18030",
    "CP936": "gb18030",
    "GB2312": "gb18030",
    "GB18030": "gb18030",
    "UTF-8": "utf-8",
    "UTF8": "utf-8",
    "65001": "utf-8",
    "BIG5": "big5",
    "950": "big5",
}


def sidecars(path: Path) -> dict[str, Path]:
    """The files beside a shapefile with the same name, keyed by lower-case suffix (``.dbf``, ``.cpg`` …)."""
    return {p.suffix.lower(): p for p in path.parent.iterdir() if p.stem == path.stem and p != path and p.is_file()}


def shapefile_encoding(path: Path, declared: str | None = None) -> str | None:
    """The codec of a shapefile's attribute text: ``declared``, else the ``.cpg``, else detected from the ``.dbf``.

    Returns ``None`` when GDAL should decide (a code page byte in the ``.dbf`` header, or no ``.dbf``).

    Raises
    ------
    InputError
        When the ``.dbf`` text (without ``.cpg``) decodes only into gibberish; names the file and
        the likely encoding.
    """
    if declared:
        return declared
    siblings = sidecars(path)
    cpg = siblings.get(".cpg")
    if cpg is not None:
        name = cpg.read_bytes().decode("ascii", "ignore").strip().upper()
        if name in _CPG:
            return _CPG[name]
        try:
            return codecs.lookup(name.lower()).name
        except LookupError:
            pass  # unknown code page name: detect from the bytes below
    dbf = siblings.get(".dbf")
    if dbf is None:
        return None
    data = dbf.read_bytes()
    if len(data) < 32:
        return None
    if data[29] not in (0, 0x57) and cpg is None:  # 0x57 = "ANSI", says nothing
        return None
    header_len = int.from_bytes(data[8:10], "little")
    detected = detect_encoding(data[header_len:], f"{path} (its .dbf, no .cpg)")
    return "utf-8" if detected in {"utf-8", "utf-8-sig"} else detected


def read_vector(path: Path | str, encoding: str | None = None, layers: tuple[str, ...] | None = None) -> list[Layer]:
    """Every non-empty feature layer of a GDAL-readable vector file.

    Parameters
    ----------
    path
        The file (a ``.shp`` with its sibling files beside it).
    encoding
        The declared encoding of a shapefile's attributes; ``None``: ``.cpg`` or detected.
    layers
        Only the layers of these names (e.g. a GPX file's ``routes`` and ``tracks``); ``None``: all.

    Raises
    ------
    InputError
        When the file cannot be read; the message names the file and the cause.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(f"cannot read {path}: {exc}") from exc
    if layers is not None:
        names = [n for n in names if n in layers]
    encoding = shapefile_encoding(path, encoding) if suffix == ".shp" else None
    found: list[Layer] = []
    for name in names:
        try:
            info = pyogrio.read_info(path, layer=name)
            if info["features"] == 0:
                continue
            frame = pyogrio.read_dataframe(path, layer=name, encoding=encoding, read_geometry=True)
            geoms = np.asarray(frame.geometry.array) if "geometry" in frame else [None] * len(frame)
        except Exception as exc:
            # One malformed geometry (e.g. a one-point LineString) must not refuse the whole file:
            # read attributes and raw geometries apart; a geometry that does not parse becomes
            # None and its row is rejected by the job with a reason.
            try:
                frame, geoms = _read_tolerant(path, name, encoding)
            except Exception:
                raise InputError(f"cannot read {path} (layer {name}): {type(exc).__name__}: {exc}") from exc
        if frame.empty:  # GPX and others may not know their feature count before reading
            continue
        crs = _crs(info.get("crs"), path)
        attributes = frame.drop(columns=["geometry"], errors="ignore")
        source = str(path) if len(names) == 1 else f"{path}#{name}"
        features = geo_frame(attributes, geoms)
        found.append(Layer(features, source, crs, encoding, oversized_cells(features)))
    return found


def _read_tolerant(path: Path, layer: str, encoding: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Attributes and geometries of a layer, with geometries that do not parse as None."""
    frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, read_geometry=False)
    _, _, wkb, _ = pyogrio.raw.read(path, layer=layer, encoding=encoding, columns=[])
    geoms = shapely.from_wkb(wkb, on_invalid="ignore") if wkb is not None else np.full(len(frame), None)
    return frame, np.asarray(geoms, dtype=object)


def _crs(text: str | None, path: Path) -> str | None:
    if not text:
        return None
    try:
        return normalize_crs(text)
    except ConfigError as exc:
        raise InputError(f"{path}: the file's coordinate system is not supported ({exc}); give --crs") from exc
