"""Column mapping: export headers (Chinese or English) → model fields, from a TOML mapping file.

The defaults in ``etl/mappings/default.toml`` cover the bureau's exports; a mapping file given
with ``--mapping`` overrides them per kind and field, so another county's export loads with a
new mapping, not new code.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.errors import ConfigError, ValidationError

DEFAULT_MAPPING = Path(__file__).resolve().parent / "mappings" / "default.toml"


def _key(header: str) -> str:
    """Header comparison key: NFKC (full-width → half-width), lower case, no spaces."""
    return "".join(unicodedata.normalize("NFKC", str(header)).lower().split())


@dataclass(frozen=True)
class Mapping:
    """Header aliases per model field for one kind of source, and the fields that must be present."""

    kind: str
    fields: dict[str, tuple[str, ...]]
    required: tuple[str, ...] = ()

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
    fields = {field: tuple(v if isinstance(v, list) else [v]) for field, v in section.items()}
    return Mapping(kind=kind, fields=fields, required=required)


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"mapping file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"mapping file {path} is not valid TOML: {exc}") from exc
