"""Expand a PATH (file, zip or folder) into readable geo files, with each file's ``source.toml`` settings.

A folder loads every readable file of the kinds asked for (sub-folders too); a zip is unpacked
into a temporary folder first (shapefiles keep their ``.cpg``/``.prj`` siblings), and so are zips
inside it down to ``EGIS_ETL_MAX_ARCHIVE_DEPTH``. Every file and every zip is held to the bounds
of :mod:`etl.readers.limits` (file size, total expansion, compression ratio, member count); a
member whose name would leave the folder (zip slip) is never written. The nearest
``source.toml`` (the file's folder, then its parents up to PATH; for a zip member, the zip's
folder too) gives per-source settings such as ``crs = "gcj02"`` or ``encoding = "big5"``.
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
from etl.readers.encoding import declared_encoding
from etl.readers.gpx import GPX_SUFFIXES, read_gpx_lines
from etl.readers.kml import KML_SUFFIXES, read_kml
from etl.readers.layer import Layer
from etl.readers.limits import ArchiveBudget, check_file_size, check_members, extract_member, limits, safe_member_path
from etl.readers.points import TABLE_SUFFIXES, read_points
from etl.readers.vector import VECTOR_SUFFIXES, read_vector, sidecars
from geo.errors import ConfigError, EgisError, InputError

GEO_SUFFIXES = VECTOR_SUFFIXES | GPX_SUFFIXES | KML_SUFFIXES | TABLE_SUFFIXES
SOURCE_CONFIG = "source.toml"


@dataclass(frozen=True)
class SourceFile:
    """One readable file: where it is on disk, how to name it in messages, and its settings."""

    path: Path
    name: str
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def encoding(self) -> str | None:
        """The declared text encoding (``--encoding``, else ``encoding`` in ``source.toml``); ``None``: detect."""
        return declared_encoding(self.config)


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


def source_config(path: Path | str) -> dict[str, Any]:
    """The settings of the ``source.toml`` beside ``path`` (in the folder, or the file's folder), or {}."""
    path = Path(path)
    return _config([path if path.is_dir() else path.parent])


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
        When ``path`` does not exist, is of the wrong kind, holds no readable file, or breaks a
        bound of :mod:`etl.readers.limits` (the message names the file and the limit).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"cannot read {path}: no such file or folder")
    with tempfile.TemporaryDirectory(prefix="egis-etl-") as scratch:
        walk = _Walk(suffixes, Path(scratch))
        found = walk.collect(path, str(path), path if path.is_dir() else path.parent, [], 0)
        if not found:
            raise InputError(f"cannot read {path}: no readable file of the kinds {', '.join(sorted(suffixes))} in it")
        yield found


class _Walk:
    """One expansion of an input: the kinds wanted, the scratch folder, and the zip budget left."""

    def __init__(self, suffixes: set[str], scratch: Path) -> None:
        self.suffixes, self.scratch = suffixes, scratch
        self.budget = ArchiveBudget()
        self.unpacked = 0

    def collect(self, path: Path, shown: str, root: Path, outer: list[Path], depth: int) -> list[SourceFile]:
        """The files under ``path`` (named ``shown`` in messages); ``depth`` = zips it lies inside."""
        if path.is_dir():
            found: list[SourceFile] = []
            for item in sorted(p for p in path.rglob("*") if p.is_file()):
                if item.suffix.lower() in self.suffixes or item.suffix.lower() == ".zip":
                    found += self.collect(item, _inside(shown, path, item), root, outer, depth)
            return found
        suffix = path.suffix.lower()
        if suffix == ".zip":
            return self._unzip(path, shown, root, outer, depth)
        if suffix not in self.suffixes:
            raise InputError(
                f"cannot read {shown}: {suffix or 'no suffix'} is not one of {', '.join(sorted(self.suffixes))}"
            )
        if depth == 0:  # zip members were bounded while extracting
            check_file_size(path, shown)
            if suffix == ".shp":
                for sibling in sidecars(path).values():
                    check_file_size(sibling, shown.removesuffix(path.name) + sibling.name)
        return [SourceFile(path, shown, _config([*_folders_up(path.parent, root), *outer]))]

    def _unzip(self, path: Path, shown: str, root: Path, outer: list[Path], depth: int) -> list[SourceFile]:
        deepest = limits().archive_depth
        if depth > deepest:
            raise InputError(
                f"cannot read {shown}: 压缩包嵌套超过 {deepest} 层 (a zip inside zips deeper than the limit of "
                f"{deepest}; unpack it, or raise EGIS_ETL_MAX_ARCHIVE_DEPTH)"
            )
        if depth == 0:
            check_file_size(path, shown)
        self.unpacked += 1
        target = self.scratch / f"{self.unpacked}_{path.stem}"
        target.mkdir()
        try:
            with zipfile.ZipFile(path) as archive:
                for member in check_members(archive, shown):
                    destination = safe_member_path(member, target)
                    if destination is not None:
                        extract_member(archive, member, destination, shown, self.budget)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as exc:
            raise InputError(f"cannot read {shown}: {type(exc).__name__}: {exc}") from exc
        folders = [*_folders_up(path.parent, root), *outer]
        return self.collect(target, f"{shown}!", target, folders, depth + 1)


def _inside(shown: str, folder: Path, item: Path) -> str:
    """The display name of ``item`` found under ``folder`` (shown as ``shown``; a zip's folder ends in ``!``)."""
    return shown + item.relative_to(folder).as_posix() if shown.endswith("!") else str(item)


def read_source_file(source: SourceFile, mapping: Mapping) -> list[Layer]:
    """The layers of one file, each named after ``source.name`` (so a zip member reads ``a.zip!b.shp``).

    Raises
    ------
    InputError
        When the file cannot be read.
    """
    suffix = source.path.suffix.lower()
    try:
        if suffix in KML_SUFFIXES:
            layers = read_kml(source.path)
        elif suffix in TABLE_SUFFIXES:
            layers = read_points(source.path, mapping, source.encoding)
        elif suffix in GPX_SUFFIXES:
            layers = read_gpx_lines(source.path)
        elif suffix in VECTOR_SUFFIXES:
            layers = read_vector(source.path, source.encoding)
        else:
            raise InputError(f"cannot read {source.name}: unknown format {suffix!r}")
    except EgisError as exc:
        if str(source.path) == source.name or str(source.path) not in str(exc):
            raise
        raise type(exc)(str(exc).replace(str(source.path), source.name)) from exc
    for layer in layers:
        layer.source = layer.source.replace(str(source.path), source.name, 1)
    return layers
