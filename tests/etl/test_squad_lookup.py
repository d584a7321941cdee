"""Which squad a point belongs to: one rule (etl.lookup) for streets, cases and the SQL that reassigns streets."""

from __future__ import annotations

import shapely
from sqlalchemy import text
from sqlalchemy.engine import Connection

from etl.jobs._case_row import CaseRow
from etl.jobs._case_squads import assign_squads
from etl.lookup import squad_at_sql, squads_by_township, squads_of
from tests.layers.conftest import Seed

IN_OVERLAP = (119.815, 28.895)  # inside ZD01's and ZD02's jurisdiction
ON_BORDER = (119.84, 28.885)  # on the border shared by ZD03 and ZD04
OUTSIDE = (119.9, 28.95)


def _overlapping(seed: Seed) -> None:
    # ZD02 (small, inserted first) lies inside ZD01 (large): the lowest code wins, not the smaller polygon.
    seed.squad("ZD02", "壶山中队", township_codes=["330723001"])
    seed.squad("ZD01", "白洋中队", township_codes=["330723001", "330723002"])
    seed.squad("ZD04", "柳城中队")
    seed.squad("ZD03", "熟溪中队")
    seed.jurisdiction("ZD02", (119.81, 28.89, 119.82, 28.90))
    seed.jurisdiction("ZD01", (119.80, 28.88, 119.83, 28.91))
    seed.jurisdiction("ZD04", (119.84, 28.88, 119.85, 28.89))
    seed.jurisdiction("ZD03", (119.83, 28.88, 119.84, 28.89))


def _sql(db: Connection, point: tuple[float, float]) -> str | None:
    sql = f"SELECT {squad_at_sql('ST_SetSRID(ST_MakePoint(:x, :y), 4326)')}"
    return db.execute(text(sql), {"x": point[0], "y": point[1]}).scalar_one()


def test_overlapping_jurisdictions_go_to_the_lowest_code(db: Connection) -> None:
    _overlapping(Seed(db))
    points = shapely.points([IN_OVERLAP, ON_BORDER, OUTSIDE])
    assert squads_of(db, points) == ["ZD01", "ZD03", None]  # a border point belongs to its jurisdictions too
    assert [_sql(db, p) for p in (IN_OVERLAP, ON_BORDER, OUTSIDE)] == ["ZD01", "ZD03", None]
    assert squads_by_township(db) == {"330723001": "ZD01", "330723002": "ZD01"}


def test_the_case_job_uses_the_same_squad_rule(db: Connection) -> None:
    _overlapping(Seed(db))
    rows = [CaseRow("f.csv", 0, n + 2, {}, {}, number=f"C{n}") for n in range(3)]
    rows[0].attrs["point"] = IN_OVERLAP
    rows[1].attrs["point"] = ON_BORDER
    rows[2].given["reported_squad"] = "壶山"  # no point: the export's squad
    assign_squads(db, rows, [None, None, None])
    assert [r.record["squad_code"] for r in rows] == ["ZD01", "ZD03", "ZD02"]
    assert [r.attrs["squad_source"] for r in rows] == ["jurisdiction", "jurisdiction", "export"]
