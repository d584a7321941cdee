"""One row of a case export as the case job carries it: where it came from, what it gives, what it writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from etl.jobs._case_checks import STAGES

TEXT_FIELDS = (
    "category",
    "domain",
    "procedure_type",
    "source",
    "status",
    "description",
    "address",
    "reported_squad",
    "party_name",
    "party_phone",
    "party_id_number",
    "complainant_name",
    "complainant_phone",
)
GEOCODE_COLUMNS = ("geocode_level", "geocode_score", "geocode_matched", "township_code", "village_code", "segment_id")
STORED_COLUMNS = (*TEXT_FIELDS, *STAGES, *GEOCODE_COLUMNS, "geom", "source_crs", "flags", "attrs")


@dataclass
class CaseRow:
    """One row read from an export, with where it came from and the stored case it updates."""

    file: str
    file_index: int
    row_number: int
    values: dict[str, str]
    raw: dict[str, str]
    present: frozenset[str] = frozenset()  # model fields the file has a column for
    number: str = ""
    given: dict[str, Any] = field(default_factory=dict)  # fields this row sets (None: cleared)
    stored: dict[str, Any] | None = None  # the case as stored before this run
    record: dict[str, Any] = field(default_factory=dict)  # what is written
    flags: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def flag(self, flag: str, note: str) -> None:
        """Add a flag (once) and a note saying why."""
        if flag not in self.flags:
            self.flags.append(flag)
        self.notes.setdefault(flag, []).append(note)

    def effective(self, name: str) -> Any:
        """The value of ``name`` after this row: given here, else as stored, else None."""
        if name in self.given:
            return self.given[name]
        return (self.stored or {}).get(name)

    def keep_stored_flags(self, prefix: str, exclude: tuple[str, ...] = ()) -> None:
        """Keep the stored flags (and notes) starting with ``prefix``: nothing in this row re-checks them."""
        stored = self.stored or {}
        notes = (stored.get("attrs") or {}).get("flag_notes")
        for flag in stored.get("flags") or []:
            if flag.startswith(prefix) and flag not in exclude and flag not in self.flags:
                self.flags.append(flag)
                self.notes[flag] = list(notes.get(flag, [])) if isinstance(notes, dict) else []

    def completeness(self) -> tuple[int, int, int, int]:
        """Sort key of duplicate rows of one case: stage times given, then the later file, cells filled, row."""
        stages = sum(self.effective(s) is not None for s in STAGES)
        filled = sum(1 for v in self.values.values() if v)
        return stages, self.file_index, filled, self.row_number
