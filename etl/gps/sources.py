"""Finding the GPS files of a load: a file, a folder (recursively) or a zip, and the settings of each."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from etl.gps.config import SOURCE_CONFIG, source_settings
from etl.readers.tabular import CSV_SUFFIXES, EXCEL_SUFFIXES
from geo.errors import InputError

GPX_SUFFIXES = {".gpx"}
SUBJECT_KINDS = ("patrol", "sanitation")


@dataclass(frozen=True)
class GpsSource:
    """One file to read, with what the folder says about it."""

    path: Path
    format: str  # "gpx" or "table"
    subject_kind: str
    default_subject: str
    settings: dict[str, Any]


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """``path`` itself, or a zip unpacked into a temporary folder.

    Raises
    ------
    InputError
        When the path does not exist or the zip cannot be read.
    """
    if not path.exists():
        raise InputError(f"cannot read {path}: no such file or folder")
    if path.is_file() and path.suffix.lower() == ".zip":
        with TemporaryDirectory(prefix="egis-gps-") as folder:
            try:
                with zipfile.ZipFile(path) as archive:
                    archive.extractall(folder)
            except (zipfile.BadZipFile, OSError) as exc:
                raise InputError(f"cannot read {path}: {exc}") from exc
            yield Path(folder)
    else:
        yield path


def find_sources(root: Path) -> tuple[list[GpsSource], list[str]]:
    """Every GPS file under ``root`` in a stable order, and warnings about files skipped.

    GPX files are patrol tracks and tables are vehicle tracks unless a ``source.toml`` says
    ``subject_kind = "patrol"`` or ``"sanitation"``. A GPX track without a name belongs to the
    subject named by its folder (``patrol/<chief_code>/<date>.gpx``).
    """
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    sources: list[GpsSource] = []
    skipped: list[str] = []
    for file in files:
        suffix = file.suffix.lower()
        if file.name == SOURCE_CONFIG or file.name.startswith("."):
            continue
        if suffix in GPX_SUFFIXES:
            fmt, kind = "gpx", "patrol"
        elif suffix in CSV_SUFFIXES | EXCEL_SUFFIXES:
            fmt, kind = "table", "sanitation"
        else:
            skipped.append(str(file))
            continue
        settings = source_settings(file, root)
        kind = str(settings.get("subject_kind", kind))
        if kind not in SUBJECT_KINDS:
            raise InputError(
                f"{file}: subject_kind {kind!r} in {SOURCE_CONFIG} is not one of {', '.join(SUBJECT_KINDS)}"
            )
        default_subject = file.parent.name or file.stem
        sources.append(GpsSource(file, fmt, kind, default_subject, settings))
    warnings = (
        [f"skipped {len(skipped)} file(s) that are not GPX, CSV or XLSX: {', '.join(skipped[:5])}"] if skipped else []
    )
    return sources, warnings
