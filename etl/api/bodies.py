"""Request bodies of the ingest API: JSON (``{"fixes": [...]}`` / ``{"events": [...]}``) or CSV, as item lists."""

from __future__ import annotations

import csv
import io
import json
from typing import Any


class BadBody(ValueError):
    """A body that is not a batch at all; ``errors`` lists every problem found (with item indices where known)."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


def items_of(body: bytes, content_type: str, key: str) -> list[Any]:
    """The items of a batch under ``key`` (``fixes`` or ``events``) in a JSON or ``text/csv`` body.

    CSV: a header line with the item fields (``device,time,lon,lat,crs,speed``), one item per line.

    Raises
    ------
    BadBody
        Not UTF-8, not JSON/CSV, no list under ``key``, or CSV lines with the wrong number of cells.
    """
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not UTF-8 text: {exc}") from None
    if kind == "text/csv":
        return _csv_items(text)
    if kind not in ("application/json", ""):
        raise BadBody(f"unsupported content type {content_type!r}: send application/json or text/csv")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadBody(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise BadBody(f'the body must be an object with a list "{key}"')
    return data[key]


def _csv_items(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise BadBody("the CSV body is empty (a header line is needed)") from None
    except csv.Error as exc:
        raise BadBody(f"the CSV body cannot be read: {exc}") from None
    header = [h.strip() for h in header]
    if not any(header) or len(set(header)) != len(header):
        raise BadBody("the CSV header must name each column once")
    items: list[dict[str, str]] = []
    errors: list[dict[str, Any]] = []
    try:
        for index, cells in enumerate(reader):
            if len(cells) != len(header):
                errors.append({"index": index, "reason": f"{len(cells)} cells, the header has {len(header)}"})
                continue
            items.append(dict(zip(header, cells, strict=True)))
    except csv.Error as exc:
        raise BadBody(f"the CSV body cannot be read: {exc}", errors) from None
    if errors:
        raise BadBody("CSV lines do not match the header", errors)
    return items
