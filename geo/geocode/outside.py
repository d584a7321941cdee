"""Places outside the county an address may name (other provinces, cities, counties), read from the region's table.

The names are data (``[gazetteer] outside_places`` in the region config, e.g.
``regions/wuyi/reference/outside_places_2023.csv``: official name and the short form written
without the suffix) plus the region's ``neighbours``. The county itself, its city and its
province are never outside.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from geo.errors import ConfigError

# What may follow a short form (东阳, 永康) for it to name the place rather than begin a local
# name such as 永康街 or 永安路: not a road, village or compound word.
_NOT_AFTER_SHORT = re.compile(r"^(?:大道|大街|公路|路|街|巷|弄|线|道|村|社区|小区|花园|新村|山庄)")


@dataclass(frozen=True)
class OutsideNames:
    """Written forms of places outside the county, each with the official name it stands for."""

    full: dict[str, str] = field(default_factory=dict)  # 东阳市 → 东阳市
    short: dict[str, str] = field(default_factory=dict)  # 东阳 → 东阳市

    @classmethod
    def build(cls, rows: list[tuple[str, str]], own: set[str]) -> OutsideNames:
        """From (official name, short form or "") pairs, leaving out the county's own names ``own``."""
        full: dict[str, str] = {}
        short: dict[str, str] = {}
        for name, stem in rows:
            if not name or name in own or (stem and stem in own):
                continue
            full.setdefault(name, name)
            if stem and len(stem) >= 2:
                short.setdefault(stem, name)
        return cls(full, short)

    def at_start(self, text: str) -> tuple[str, str] | None:
        """The longest outside name ``text`` starts with, as (written form, official name), or None.

        A short form counts only when what follows is not a road, village or compound word.
        """
        for size in range(min(len(text), 16), 1, -1):
            form = text[:size]
            if form in self.full:
                return form, self.full[form]
            if form in self.short and not _NOT_AFTER_SHORT.match(text[size:]):
                return form, self.short[form]
        return None


@lru_cache(maxsize=8)
def read_outside_places(path: Path) -> tuple[tuple[str, str], ...]:
    """(official name, short form) of every row of an outside-places table (columns ``name``, ``short``)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ConfigError(f"cannot read the outside-places table {path}: {exc}") from exc
    if rows and not {"name", "short"} <= set(rows[0]):
        raise ConfigError(f"outside-places table {path} needs the columns name and short")
    return tuple(((r.get("name") or "").strip(), (r.get("short") or "").strip()) for r in rows)
