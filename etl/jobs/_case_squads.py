"""Which squad a case belongs to: the jurisdiction at its point, else its township's squad, else the export's."""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy.engine import Connection

from etl.jobs._case_row import CaseRow
from etl.lookup import squad_codes, squads_by_township, squads_of
from geo.geocode import GeocodeResult


def assign_squads(conn: Connection, rows: list[CaseRow], results: list[GeocodeResult | None]) -> None:
    """Set each row's ``squad_code`` and ``squad_source``; flag a 所属中队 that is unknown or differs.

    The jurisdiction at the point is :func:`etl.lookup.squads_of` (the one rule, with its
    tie-break where jurisdictions overlap); without one, the squad listing the case's township
    (:func:`etl.lookup.squads_by_township`), else the squad the export names.
    """
    names = squad_codes(conn)
    by_township = squads_by_township(conn)
    located = [i for i, r in enumerate(rows) if "point" in r.attrs]
    points = shapely.points([rows[i].attrs["point"] for i in located]) if located else np.empty(0, dtype=object)
    hits = dict(zip(located, squads_of(conn, points), strict=True))
    for i, (row, result) in enumerate(zip(rows, results, strict=True)):
        reported = (row.effective("reported_squad") or "").strip()
        reported_code = names.get(reported) if reported else None
        if reported and names and reported_code is None:
            row.flag("squad_unknown", f"所属中队“{reported}”不是已知中队")
        township = result.township_code if result is not None else (row.stored or {}).get("township_code")
        code, source = hits.get(i), "jurisdiction"
        if code is None and township in by_township:
            code, source = by_township[township], "township"
        if code is None and reported_code:
            code, source = reported_code, "export"
        if code and reported_code and code != reported_code:
            row.flag("squad_mismatch", f"导出所属中队为{reported}，辖区为{code}")
        row.record["squad_code"] = code
        row.attrs["squad_source"] = source if code else None
