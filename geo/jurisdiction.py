"""Which squad's jurisdiction a point lies in, in SQL: the one rule the ETL and a person's fix share."""

from __future__ import annotations

# Where current jurisdictions overlap, the lowest squad code wins: overlaps are data errors the
# jurisdictions run reports (etl.tiling), so no squad is "more specific"; the lowest code is
# stable, needs no areas, and reads the same in SQL. A point on a shared border belongs to both.
SQUAD_TIE_BREAK = "ORDER BY j.squad_code LIMIT 1"


def squad_at_sql(point: str) -> str:
    """A SQL scalar subquery: the squad code of the current jurisdiction at ``point`` (a SQL expression)."""
    return (
        f"(SELECT j.squad_code FROM jurisdictions j WHERE j.is_current AND ST_Intersects(j.geom, {point}) "
        f"{SQUAD_TIE_BREAK})"
    )
