"""The GPS files of a load (found by :func:`etl.readers.input_files.source_files`) and what each one holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etl.readers.gpx import GPX_SUFFIXES
from etl.readers.input_files import SOURCE_CONFIG, SourceFile
from etl.readers.points import TABLE_SUFFIXES
from geo.errors import ConfigError

GPS_SUFFIXES = GPX_SUFFIXES | TABLE_SUFFIXES
SUBJECT_KINDS = ("patrol", "sanitation")


@dataclass(frozen=True)
class GpsSource:
    """One GPS file to read: on disk, as named in messages, its format, whose track it is, its settings."""

    path: Any  # pathlib.Path
    name: str
    format: str  # "gpx" or "table"
    subject_kind: str
    default_subject: str
    settings: dict[str, Any]


def gps_sources(files: list[SourceFile]) -> list[GpsSource]:
    """Describe the files of a load.

    GPX files are patrol tracks and tables are vehicle tracks unless their ``source.toml`` says
    ``subject_kind = "patrol"`` or ``"sanitation"``. A GPX track without a name belongs to the
    subject named by its folder (``patrol/<chief_code>/<date>.gpx``).

    Raises
    ------
    ConfigError
        When a ``source.toml`` names an unknown subject kind.
    """
    sources = []
    for file in files:
        gpx = file.path.suffix.lower() in GPX_SUFFIXES
        kind = str(file.config.get("subject_kind", "patrol" if gpx else "sanitation"))
        if kind not in SUBJECT_KINDS:
            raise ConfigError(
                f"{file.config.get('_file', SOURCE_CONFIG)}: subject_kind {kind!r} is not one of "
                f"{', '.join(SUBJECT_KINDS)}"
            )
        sources.append(
            GpsSource(
                path=file.path,
                name=file.name,
                format="gpx" if gpx else "table",
                subject_kind=kind,
                default_subject=file.path.parent.name or file.path.stem,
                settings=file.config,
            )
        )
    return sources
