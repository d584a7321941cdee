"""Shared first half of the spatial jobs: read every file, map columns, convert CRS, clean and check geometry.

Rows that cannot be loaded (no/invalid/empty geometry, wrong shape, outside the region) are
rejected here with their reason and raw row; the rest come back in WGS-84 with the file, row
and source CRS of each, for the job to validate its own fields and write.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from etl.mapping import Mapping, load_mapping
from etl.offset_check import offset_warning
from etl.progress import stage, track
from etl.readers.input_files import GEO_SUFFIXES, read_source_file, source_files
from etl.readers.layer import Layer
from etl.runs import Run
from etl.source_crs import input_crs, is_geographic, to_storage
from etl.upsert import Merged, merge
from etl.validate import coerce, outside_region
from geo.errors import ConfigError
from geo.region import Region


@dataclass
class Features:
    """Features that passed the geometry checks, and the layers they came from (to name rejects).

    ``frame`` has the mapped model fields, ``geometry`` (WGS-84), ``_layer`` and ``_index`` (where
    the raw row is), ``_row`` (row number in its file) and ``source_crs``.
    """

    frame: gpd.GeoDataFrame
    layers: list[Layer] = field(default_factory=list)

    def reject(self, run: Run, mask: np.ndarray | pd.Series, reason: str | list[str]) -> None:
        """Reject the rows selected by ``mask`` (with one reason, or one per selected row) and drop them."""
        mask = np.asarray(mask, dtype=bool)
        chosen = self.frame[mask]
        reasons = [reason] * len(chosen) if isinstance(reason, str) else reason
        for (_, row), why in zip(chosen.iterrows(), reasons, strict=True):
            layer = self.layers[int(row["_layer"])]
            run.reject(int(row["_row"]), layer.raw(row["_index"]), why, layer.source)
        self.frame = self.frame[~mask]

    def text(self, column: str) -> pd.Series:
        """A mapped column as stripped text ('' where missing), aligned with ``frame``."""
        if column not in self.frame:
            return pd.Series("", index=self.frame.index, dtype=object)
        values = self.frame[column]
        return values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())

    def where(self, position: int) -> str:
        """'file row N' of the row at ``position`` in ``frame`` (for messages)."""
        row = self.frame.iloc[position]
        return f"{self.layers[int(row['_layer'])].source} row {int(row['_row'])}"


def read_features(
    conn: Connection,
    run: Run,
    path: Path,
    kind: str,
    target: str,
    region: Region,
    *,
    crs: str | None = None,
    mapping: Path | None = None,
) -> Features:
    """Read, map, convert and geometry-check every feature under ``path`` for a job of ``kind``.

    Parameters
    ----------
    target
        The geometry the job stores: ``point``, ``line``, ``multiline`` or ``polygon``.
    crs
        ``--crs`` from the command line; wins over ``source.toml`` and the files' own CRS.

    Raises
    ------
    InputError, ValidationError, ConfigError
        When a file cannot be read, lacks a required column, or its CRS is contradictory.
    """
    column_mapping: Mapping = load_mapping(kind, mapping)
    layers: list[Layer] = []
    frames: list[pd.DataFrame] = []
    used: Counter[str] = Counter()
    with source_files(path, GEO_SUFFIXES) as files:
        for source in track(files, f"reading {kind}"):
            for layer in read_source_file(source, column_mapping):
                position = len(layers)
                layers.append(layer)
                with stage(f"checking {len(layer.frame):,} features of {layer.source}"):
                    frames.append(
                        _check_layer(run, layer, position, column_mapping, crs, source.config, target, region)
                    )
                used[frames[-1].attrs["crs"]] += len(layer.frame)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"geometry": []})
    features = Features(gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326"), layers)
    run.stats["files"] = len({layer.source.split("#")[0] for layer in layers})
    run.stats["source_crs"] = dict(used)
    for crs_name in used:
        geoms = features.frame.geometry.values[(features.frame["source_crs"] == crs_name).to_numpy()]
        warning = offset_warning(
            conn, np.asarray(geoms, dtype=object), crs_name, region, streets_kind=kind == "streets"
        )
        if warning:
            run.warn(f"{kind} in {crs_name}: {warning}")
    return features


def _check_layer(
    run: Run,
    layer: Layer,
    position: int,
    mapping: Mapping,
    cli_crs: str | None,
    config: dict,
    target: str,
    region: Region,
) -> pd.DataFrame:
    raw = layer.frame
    run.read += len(raw)
    used = input_crs(cli_crs, config, layer.crs, source=layer.source)
    attributes = mapping.apply(pd.DataFrame(raw.drop(columns=["geometry", "_row"])), layer.source)
    geoms = np.asarray(raw.geometry.values, dtype=object)
    reasons: list[str | None] = [None] * len(raw)
    problems = layer.problems or {}
    converted = np.empty(len(raw), dtype=object)
    present = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    _check_degrees(geoms[present], used, layer.source)
    if present.any():
        converted[present] = to_storage(shapely.force_2d(geoms[present]), used)
    cleaned = np.empty(len(raw), dtype=object)
    simple = _already_fine(converted, present, target)
    simple &= ~raw.index.isin(list(problems))  # a row the reader found unloadable (e.g. an oversized cell)
    cleaned[simple] = converted[simple]
    for i in np.flatnonzero(~simple):
        index = raw.index[i]
        if index in problems:
            reasons[i] = problems[index]
            continue
        cleaned[i], reasons[i] = coerce(converted[i] if present[i] else geoms[i], target)
    ok = np.array([r is None for r in reasons], dtype=bool)
    distance = outside_region(cleaned[ok], region)
    for i, d in zip(np.flatnonzero(ok), distance, strict=True):
        if not np.isnan(d):
            reasons[i] = (
                f"outside {region.name}: {d / 1000:.1f} km beyond the outline "
                f"(margin {region.outside_margin_m:.0f} m); wrong coordinates or CRS ({used})?"
            )
    for i, reason in enumerate(reasons):
        if reason is not None:
            run.reject(int(raw["_row"].iloc[i]), layer.raw(raw.index[i]), reason, layer.source)
    keep = np.array([r is None for r in reasons], dtype=bool)
    out = attributes[keep].copy()
    out["geometry"] = cleaned[keep]
    out["_row"] = raw["_row"].to_numpy()[keep]
    out["_index"] = raw.index.to_numpy()[keep]
    out["_layer"] = position
    out["source_crs"] = used
    out.attrs["crs"] = used
    return out


def _check_degrees(geoms: np.ndarray, crs: str, source: str) -> None:
    """Stop when most coordinates of a layer read as lon/lat cannot be degrees (a projected file without .prj)."""
    if not len(geoms) or not is_geographic(crs):
        return
    xmin, ymin, xmax, ymax = shapely.bounds(geoms).T
    wrong = (np.abs(xmin) > 180) | (np.abs(xmax) > 180) | (np.abs(ymin) > 90) | (np.abs(ymax) > 90)
    if wrong.mean() > 0.5:
        x, y = shapely.get_coordinates(geoms[wrong][0])[0]
        raise ConfigError(
            f"{source}: coordinates such as ({x:.1f}, {y:.1f}) are not degrees, so the data is in a projected "
            f"CRS that the file does not declare; give it with --crs (e.g. EPSG:4549) or in source.toml"
        )


def _already_fine(geoms: np.ndarray, present: np.ndarray, target: str) -> np.ndarray:
    """Rows whose geometry needs no repair or conversion (a vectorised fast path for big files)."""
    wanted = {"point": 0, "line": 1}.get(target)
    if wanted is None or not present.any():
        return np.zeros(len(geoms), dtype=bool)
    fine = present.copy()
    fine[present] = (shapely.get_type_id(geoms[present]) == wanted) & shapely.is_valid(geoms[present])
    if target == "line":
        fine[fine] = shapely.length(geoms[fine]) > 0
    return fine


def feature_rows(
    features: Features, run: Run, columns: dict[str, Sequence[Any]], geometry: str = "geom"
) -> list[dict[str, Any]]:
    """Rows for :func:`etl.upsert.merge`, one per feature left in ``features``.

    Parameters
    ----------
    features
        The features (after the job's own rejects).
    run
        The run; its id goes into ``run_id``.
    columns
        Column → values, each aligned with ``features.frame``.
    geometry
        The column that takes the feature's geometry (EWKB); ``source_crs`` comes with it.
    """
    frame = features.frame
    data = {name: _plain(values) for name, values in columns.items()}
    data[geometry] = ewkb(frame.geometry.values)
    data["source_crs"] = frame["source_crs"].tolist()
    return [dict(zip(data, values, strict=True), run_id=run.id) for values in zip(*data.values(), strict=True)]


def _plain(values: Sequence[Any]) -> list[Any]:
    return values.tolist() if isinstance(values, pd.Series | np.ndarray) else list(values)


def merge_features(conn: Connection, run: Run, table: Table, rows: list[dict[str, Any]], key: Sequence[str]) -> Merged:
    """Merge ``rows`` into ``table`` on the job's natural ``key``; they count as loaded, the counts go to stats."""
    merged = merge(conn, table, rows, key)
    run.loaded += len(rows)
    run.stats.update(merged.counts())
    return merged


def ewkb(geoms: Any) -> list[str]:
    """EWKB hex (SRID 4326) of WGS-84 geometries, for :func:`etl.upsert.merge`."""
    return list(shapely.to_wkb(shapely.set_srid(np.asarray(geoms, dtype=object), 4326), hex=True, include_srid=True))


def hash_key(label: str, geom: Any) -> str:
    """A stable key for a feature without one: ``h:`` + a hash of ``label`` and its geometry (6 decimals),
    so the same feature keeps its key across loads."""
    return "h:" + hashlib.sha1(f"{label}|{shapely.to_wkt(geom, rounding_precision=6)}".encode()).hexdigest()[:16]


def duplicates(features: Features, key: pd.Series, what: str) -> tuple[np.ndarray, list[str]]:
    """Mask of rows whose ``key`` repeats an earlier row's (empty keys excepted), with the reasons."""
    first: dict[str, int] = {}
    mask = np.zeros(len(key), dtype=bool)
    reasons: list[str] = []
    for i, value in enumerate(key):
        if not value:
            continue
        if value in first:
            mask[i] = True
            reasons.append(f"duplicate {what} {value!r}: already at {features.where(first[value])}")
        else:
            first[value] = i
    return mask, reasons


def resolve_squad_codes(features: Features, run: Run, known: dict[str, str]) -> pd.Series:
    """Each row's squad code: its ``code``, else the code of the known squad its ``name`` names.

    Rows with neither are rejected (and dropped from ``features``); the result is aligned with what is left.
    """
    names = features.text("name")
    resolved = [c or known.get(n, "") for c, n in zip(features.text("code"), names, strict=True)]
    missing = np.array([not c for c in resolved], dtype=bool)
    features.reject(
        run,
        missing,
        [
            f"no squad code and the name {n!r} is not a known squad" if n else "no squad code or name"
            for n, m in zip(names, missing, strict=True)
            if m
        ],
    )
    return pd.Series([c for c, m in zip(resolved, missing, strict=True) if not m], index=features.frame.index)
