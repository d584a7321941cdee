"""Expand a PATH (file, zip or folder) into readable geo files, with each file's ``source.toml`` settings.

A folder loads every readable file of the kinds asked for (sub-folders too); a zip is unpacked
into a temporary folder first (shapefiles keep their ``.cpg``/``.prj`` siblings). The nearest
``source.toml`` (the file's folder, then its parents up to PATH; for a zip member, the zip's
folder too) gives per-source settings such as ``crs = "gcj02"``.
"""

from __future__ import annotations

import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl.mapping import Mapping
from etl.readers.kml import KML_SUFFIXES, read_kml
from etl.readers.layer import Layer
from etl.readers.points import TABLE_SUFFIXES, read_points
from etl.readers.vector import VECTOR_SUFFIXES, read_vector
from geo.errors import ConfigError, InputError

GEO_SUFFIXES = VECTOR_SUFFIXES | KML_SUFFIXES | TABLE_SUFFIXES
SOURCE_CONFIG = "source.toml"


@dataclass(frozen=True)
class SourceFile:
    """One readable file: where it is on disk, how to name it in messages, and its settings."""

    path: Path
    name: str
    config: dict[str, Any] = field(default_factory=dict)


def _config(folders: list[Path]) -> dict[str, Any]:
    for folder in folders:
        candidate = folder / SOURCE_CONFIG
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"cannot read {candidate}: {exc}") from exc
            return {**data, "_file": str(candidate)}
    return {}


def _folders_up(start: Path, stop: Path) -> list[Path]:
    folders = [start]
    while start != stop and stop in start.parents:
        start = start.parent
        folders.append(start)
    return folders


@contextmanager
def source_files(path: Path | str, suffixes: set[str]) -> Iterator[list[SourceFile]]:
    """The readable files under ``path`` (file, zip or folder) whose suffix is in ``suffixes``.

    Raises
    ------
    InputError
        When ``path`` does not exist, is of the wrong kind, or holds no readable file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"cannot read {path}: no such file or folder")
    with tempfile.TemporaryDirectory(prefix="egis-etl-") as scratch:
        found = _collect(path, path if path.is_dir() else path.parent, suffixes, Path(scratch), [])
        if not found:
            raise InputError(f"cannot read {path}: no readable file of the kinds {', '.join(sorted(suffixes))} in it")
        yield found


def _collect(path: Path, root: Path, suffixes: set[str], scratch: Path, outer: list[Path]) -> list[SourceFile]:
    if path.is_dir():
        found: list[SourceFile] = []
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            if item.suffix.lower() in suffixes or item.suffix.lower() == ".zip":
                found += _collect(item, root, suffixes, scratch, outer)
        return found
    suffix = path.suffix.lower()
    if suffix == ".zip":
        target = scratch / f"{len(list(scratch.iterdir()))}_{path.stem}"
        try:
            with zipfile.ZipFile(path) as archive:
                for member in archive.infolist():
                    if member.is_dir() or ".." in Path(member.filename).parts or member.filename.startswith("/"):
                        continue
                    archive.extract(member, target)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
        inner = _collect(target, target, suffixes, scratch, [*_folders_up(path.parent, root), *outer])
        return [SourceFile(f.path, f"{path}!{f.path.relative_to(target)}", f.config) for f in inner]
    if suffix not in suffixes:
        raise InputError(f"cannot read {path}: {suffix or 'no suffix'} is not one of {', '.join(sorted(suffixes))}")
    return [SourceFile(path, str(path), _config([*_folders_up(path.parent, root), *outer]))]


def read_source_file(source: SourceFile, mapping: Mapping) -> list[Layer]:
    """The layers of one file, each named after ``source.name`` (so a zip member reads ``a.zip!b.shp``).

    Raises
    ------
    InputError
        When the file cannot be read.
    """
    suffix = source.path.suffix.lower()
    if suffix in KML_SUFFIXES:
        layers = read_kml(source.path)
    elif suffix in TABLE_SUFFIXES:
        layers = read_points(source.path, mapping)
    elif suffix in VECTOR_SUFFIXES:
        layers = read_vector(source.path)
    else:
        raise InputError(f"cannot read {source.name}: unknown format {suffix!r}")
    for layer in layers:
        layer.source = layer.source.replace(str(source.path), source.name, 1)
    return layers
