"""The bounds every reader holds untrusted input to: file size, zip expansion, nesting and cell length.

One set of rules for every reader (tables, vector files, KML/KMZ, zips); the figures are settings
(``EGIS_ETL_MAX_*`` in :mod:`geo.settings`). Zip members are checked on their declared sizes
before anything is written, and the bytes actually written are counted while extracting, because
a zip header can lie. Messages name the file, the limit and the setting that raises it, in Chinese
and English.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.settings import get_settings

MB = 1 << 20
RATIO_FREE_BYTES = 16 * MB  # members up to this size may compress at any ratio (padded .dbf fields do)
CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """The bounds in bytes and counts, read from the settings."""

    file_bytes: int
    archive_bytes: int
    archive_ratio: float
    archive_members: int
    archive_depth: int
    field_chars: int


def limits() -> Limits:
    """The current bounds (from :func:`geo.settings.get_settings`)."""
    s = get_settings()
    return Limits(
        file_bytes=int(s.etl_max_file_mb * MB),
        archive_bytes=int(s.etl_max_archive_mb * MB),
        archive_ratio=s.etl_max_archive_ratio,
        archive_members=s.etl_max_archive_members,
        archive_depth=s.etl_max_archive_depth,
        field_chars=s.etl_max_field_chars,
    )


def _mb(size: float) -> str:
    return f"{size / MB:,.1f} MB"


def check_file_size(path: Path, shown: str | None = None) -> None:
    """Stop when a plain input file is larger than ``EGIS_ETL_MAX_FILE_MB``.

    Raises
    ------
    InputError
        Naming the file (``shown``, else ``path``), its size and the limit.
    """
    size = path.stat().st_size
    bound = limits().file_bytes
    if size > bound:
        raise InputError(
            f"cannot read {shown or path}: 文件过大 {_mb(size)}，上限 {_mb(bound)} "
            f"(file is {_mb(size)}, larger than the limit of {_mb(bound)}; EGIS_ETL_MAX_FILE_MB)"
        )


class ArchiveBudget:
    """What one input may still expand to: bytes left over all its zips (nested ones too)."""

    def __init__(self) -> None:
        self.left = limits().archive_bytes

    def take(self, size: int, shown: str) -> None:
        """Count ``size`` more expanded bytes; stop when the total passes ``EGIS_ETL_MAX_ARCHIVE_MB``.

        Raises
        ------
        InputError
            Naming the archive and the limit.
        """
        self.left -= size
        if self.left < 0:
            bound = limits().archive_bytes
            raise InputError(
                f"cannot read {shown}: 压缩包展开后超过上限 {_mb(bound)} "
                f"(expands to more than the limit of {_mb(bound)}; EGIS_ETL_MAX_ARCHIVE_MB)"
            )


def check_members(archive: zipfile.ZipFile, shown: str) -> list[zipfile.ZipInfo]:
    """The file members of a zip after checking their declared sizes, count and compression ratios.

    Raises
    ------
    InputError
        When the zip holds too many members, a member is too large or compressed beyond the ratio
        limit (a zip bomb), or the declared total exceeds the archive limit.
    """
    bound = limits()
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > bound.archive_members:
        raise InputError(
            f"cannot read {shown}: 压缩包内文件过多 {len(members):,} 个，上限 {bound.archive_members:,} "
            f"(holds {len(members):,} files, more than the limit of {bound.archive_members:,}; "
            "EGIS_ETL_MAX_ARCHIVE_MEMBERS)"
        )
    total = 0
    for member in members:
        where = f"{shown}!{member.filename}"
        if member.file_size > bound.file_bytes:
            raise InputError(
                f"cannot read {where}: 文件过大 {_mb(member.file_size)}，上限 {_mb(bound.file_bytes)} "
                f"(expands to {_mb(member.file_size)}, larger than the limit of {_mb(bound.file_bytes)}; "
                "EGIS_ETL_MAX_FILE_MB)"
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FREE_BYTES and ratio > bound.archive_ratio:
            raise InputError(
                f"cannot read {where}: 压缩比 {ratio:,.0f} 倍异常（疑似压缩炸弹），上限 {bound.archive_ratio:,.0f} 倍 "
                f"(compressed {ratio:,.0f} to 1, beyond the limit of {bound.archive_ratio:,.0f}: a zip bomb?; "
                "EGIS_ETL_MAX_ARCHIVE_RATIO)"
            )
        total += member.file_size
    if total > bound.archive_bytes:
        raise InputError(
            f"cannot read {shown}: 压缩包展开后 {_mb(total)}，超过上限 {_mb(bound.archive_bytes)} "
            f"(expands to {_mb(total)}, more than the limit of {_mb(bound.archive_bytes)}; EGIS_ETL_MAX_ARCHIVE_MB)"
        )
    return members


def safe_member_path(member: zipfile.ZipInfo, target: Path) -> Path | None:
    """Where a member goes under ``target``, or ``None`` for a name that would leave it (zip slip)."""
    name = member.filename.replace("\\", "/")
    parts = Path(name).parts
    if not parts or name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        return None
    destination = (target / name).resolve()
    if not destination.is_relative_to(target.resolve()):
        return None
    return destination


def read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, shown: str, budget: ArchiveBudget) -> bytes:
    """The bytes of one member, counted while reading so that a lying header cannot pass the bounds."""
    return b"".join(_member_chunks(archive, member, shown, budget))


def extract_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, destination: Path, shown: str, budget: ArchiveBudget
) -> None:
    """Write one member to ``destination``, counting the bytes written against the bounds."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "wb") as out:
        for chunk in _member_chunks(archive, member, shown, budget):
            out.write(chunk)


def _member_chunks(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, shown: str, budget: ArchiveBudget
) -> Iterator[bytes]:
    bound = limits().file_bytes
    where = f"{shown}!{member.filename}"
    written = 0
    with archive.open(member) as source:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > member.file_size:
                raise InputError(
                    f"cannot read {where}: 压缩包声明的大小 {member.file_size:,} 字节与内容不符 "
                    f"(expands beyond the {member.file_size:,} bytes its header declares; a forged zip?)"
                )
            if written > bound:
                raise InputError(
                    f"cannot read {where}: 文件过大，上限 {_mb(bound)} "
                    f"(expands beyond the limit of {_mb(bound)}; EGIS_ETL_MAX_FILE_MB)"
                )
            budget.take(len(chunk), shown)
            yield chunk


def check_archive_file(path: Path, shown: str | None = None) -> None:
    """Check the declared expansion of a zip-based document (XLSX, KMZ) before a library opens it.

    Raises
    ------
    InputError
        When the document would expand beyond the bounds (see :func:`check_members`).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            check_members(archive, shown or str(path))
    except zipfile.BadZipFile:
        return  # not a zip (an old .xls); the reader reports what it cannot read


def check_header(columns: list[Any], shown: str) -> None:
    """Stop when a column header is longer than a cell may be.

    Raises
    ------
    InputError
        Naming the file and the limit.
    """
    bound = limits().field_chars
    for column in columns:
        if len(str(column)) > bound:
            raise InputError(
                f"cannot read {shown}: 表头字段超过 {bound:,} 个字符 "
                f"(a column header is longer than the limit of {bound:,} characters; EGIS_ETL_MAX_FIELD_CHARS)"
            )


def oversized_cells(frame: pd.DataFrame) -> dict[Any, str]:
    """Per row (by frame index), why it cannot be loaded: a cell longer than ``EGIS_ETL_MAX_FIELD_CHARS``."""
    bound = limits().field_chars
    problems: dict[Any, str] = {}
    for column in frame.columns:
        values = frame[column]
        if column == "geometry" or not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        try:
            lengths = values.str.len().fillna(0).to_numpy()
        except AttributeError:  # an object column of mixed values (numbers, dates): measure the text ones
            lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0).to_numpy()
        for position in np.flatnonzero(lengths > bound):
            index = frame.index[position]
            problems.setdefault(
                index,
                f"字段 {column} 有 {int(lengths[position]):,} 个字符，超过上限 {bound:,} "
                f"(field {column} holds {int(lengths[position]):,} characters, more than the limit of {bound:,}; "
                "EGIS_ETL_MAX_FIELD_CHARS)",
            )
    return problems
