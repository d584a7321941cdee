"""Column mapping: export headers (Chinese or English) → model fields, from a TOML mapping file.

The defaults in ``etl/mappings/default.toml`` cover the bureau's exports; a mapping file given
with ``--mapping`` overrides them per kind and field, so another county's export loads with a
new mapping, not new code.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import ConfigError, ValidationError

DEFAULT_MAPPING = Path(__file__).resolve().parent / "mappings" / "default.toml"


def _key(header: str) -> str:
    """Header comparison key: NFKC (full-width → half-width), lower case, no spaces."""
    return "".join(unicodedata.normalize("NFKC", str(header)).lower().split())


@dataclass(frozen=True)
class Mapping:
    """Header aliases per model field for one kind of source, the fields that must be present, and options.

    Options (keys of the kind's section besides the fields):

    - ``blanks_clear`` (default false): an empty cell erases the stored value of its field; by
      default an empty cell (like a column the file does not have) leaves the stored value as it is.
    - ``date_formats``: ``strptime`` formats of the file's times, tried before the built-in ones,
      e.g. ``["%m/%d/%Y %I:%M:%S %p"]`` for a US export.
    """

    kind: str
    fields: dict[str, tuple[str, ...]]
    required: tuple[str, ...] = ()
    blanks_clear: bool = False
    date_formats: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """SHA-256 of everything that decides how a file is read: part of a run's input identity."""
        canonical = json.dumps(
            [self.kind, self.fields, self.required, self.blanks_clear, self.date_formats], ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def given(self, values: dict[str, Any], present: set[str] | frozenset[str]) -> dict[str, Any]:
        """The fields a row gives: columns the file has, empty cells only when ``blanks_clear`` (as None).

        A field missing from the answer must leave the stored value untouched.
        """
        out: dict[str, Any] = {}
        for name in present:
            value = values.get(name)
            blank = value is None or (isinstance(value, str) and not value.strip())
            if not blank:
                out[name] = value
            elif self.blanks_clear:
                out[name] = None
        return out

    def resolve(self, headers: list[str]) -> dict[str, str]:
        """Model field → the header that carries it, for the headers present (first alias wins)."""
        present = {_key(h): h for h in headers}
        found: dict[str, str] = {}
        for field, aliases in self.fields.items():
            for alias in aliases:
                if _key(alias) in present:
                    found[field] = present[_key(alias)]
                    break
        return found

    def apply(self, frame: pd.DataFrame, source: str) -> pd.DataFrame:
        """Rename mapped columns to model fields (unmapped columns are kept under their own names).

        Raises
        ------
        ValidationError
            When a required field has no column; names the file, the field and the headers seen.
        """
        found = self.resolve(list(frame.columns))
        missing = [f for f in self.required if f not in found]
        if missing:
            raise ValidationError(
                f"{source}: no column for required field(s) of {self.kind}",
                [f"{f}: expected one of {', '.join(self.fields.get(f, ()))}" for f in missing]
                + [f"headers in the file: {', '.join(map(str, frame.columns))}"],
            )
        return frame.rename(columns={header: field for field, header in found.items()})


def load_mapping(kind: str, override: Path | None = None) -> Mapping:
    """The mapping of ``kind`` from the defaults, with the fields of ``override`` (if given) replacing them."""
    sections = _read(DEFAULT_MAPPING)
    if override is not None:
        for name, section in _read(override).items():
            sections.setdefault(name, {}).update(section)
    if kind not in sections:
        raise ConfigError(f"no column mapping for kind {kind!r}; known: {', '.join(sorted(sections))}")
    section = dict(sections[kind])
    required = tuple(section.pop("required", ()))
    blanks_clear = section.pop("blanks_clear", False)
    formats = section.pop("date_formats", [])
    if not isinstance(blanks_clear, bool):
        raise ConfigError(f"mapping [{kind}] blanks_clear must be true or false, not {blanks_clear!r}")
    if isinstance(formats, str):
        formats = [formats]
    if not all(isinstance(f, str) and "%" in f for f in formats):
        raise ConfigError(f'mapping [{kind}] date_formats must be strptime formats such as "%m/%d/%Y %H:%M"')
    fields = {field: tuple(v if isinstance(v, list) else [v]) for field, v in section.items()}
    return Mapping(kind=kind, fields=fields, required=required, blanks_clear=blanks_clear, date_formats=tuple(formats))


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"mapping file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"mapping file {path} is not valid TOML: {exc}") from exc
