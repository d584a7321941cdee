"""Look-ups against what is already loaded: township and squad of a point, squad code of a squad name.

The squad at a point in SQL (:func:`squad_at_sql`, :data:`SQUAD_TIE_BREAK`) lives in :mod:`geo.jurisdiction`.
"""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.jurisdiction import SQUAD_TIE_BREAK, squad_at_sql
from geo.region import Region

__all__ = ["SQUAD_TIE_BREAK", "midpoints", "squad_at_sql", "squad_codes", "squads_by_township", "squads_of"]
from geo.spatial import to_metric


def midpoints(geoms: np.ndarray) -> np.ndarray:
    """A representative point per geometry: lines at half their length, others a point on the surface.

    Matches ``ST_LineInterpolatePoint(geom, 0.5)`` / ``ST_PointOnSurface(geom)`` in SQL.
    """
    geoms = np.asarray(geoms, dtype=object)
    lines = shapely.get_type_id(geoms) == 1
    out = shapely.point_on_surface(geoms)
    if lines.any():
        out[lines] = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
    return out


def township_code(value: str, region_code: str) -> str | None:
    """The 9-digit township code in an attribute (9 or 12 digits of this region), else ``None``."""
    digits = value.split(".")[0].strip()
    if digits.isdigit() and digits.startswith(region_code) and len(digits) in (9, 12):
        return digits[:9]
    return None


def fill_townships(
    conn: Connection, run_stats: dict, values: list[str], points: np.ndarray, region: Region
) -> list[str | None]:
    """Township codes from an attribute column, found by location where the attribute has none.

    Records in ``run_stats['township_from_location']`` how many rows were located and how.
    """
    townships = [township_code(v, region.code) for v in values]
    missing = [i for i, t in enumerate(townships) if t is None]
    if missing:
        found, how = townships_of(conn, points[missing], region)
        for i, code in zip(missing, found, strict=True):
            townships[i] = code
        run_stats["township_from_location"] = {"rows": len(missing), "how": how}
    return townships


def townships_of(conn: Connection, points: np.ndarray, region: Region) -> tuple[list[str | None], str]:
    """Township code of each point: the township polygon containing it, else the nearest township seat.

    Returns the codes and how they were found (``polygon``, ``nearest seat`` or ``none``).
    """
    rows = conn.execute(
        text(
            "SELECT code, ST_AsBinary(geom) AS geom, ST_AsBinary(seat) AS seat FROM admin_areas "
            "WHERE level = 'township' AND (geom IS NOT NULL OR seat IS NOT NULL) ORDER BY code"
        )
    ).all()
    codes = np.array([r.code for r in rows], dtype=object)
    if not len(points):
        return [], "none"
    polygons = [r for r in rows if r.geom is not None]
    if polygons:
        tree = shapely.STRtree(shapely.from_wkb([r.geom for r in polygons]))
        found: list[str | None] = [None] * len(points)
        for point_index, polygon_index in zip(*tree.query(points, predicate="within"), strict=True):
            found[point_index] = polygons[polygon_index].code
        return found, "polygon"
    seats = [r for r in rows if r.seat is not None]
    if not seats:
        return [None] * len(points), "none"
    codes = np.array([r.code for r in seats], dtype=object)
    tree = shapely.STRtree(to_metric(shapely.from_wkb([r.seat for r in seats]), region.metric_crs))
    nearest = tree.nearest(to_metric(points, region.metric_crs))
    return list(codes[nearest]), "nearest seat"


def squads_of(conn: Connection, points: np.ndarray) -> list[str | None]:
    """Squad code of the current jurisdiction at each point (``None`` outside all of them).

    The same answer as :func:`squad_at_sql`: a point on a border belongs to the jurisdictions it
    touches, and where they overlap the lowest code wins (:data:`SQUAD_TIE_BREAK`).
    """
    rows = conn.execute(
        text("SELECT squad_code, ST_AsBinary(geom) AS geom FROM jurisdictions WHERE is_current ORDER BY squad_code")
    ).all()
    found: list[str | None] = [None] * len(points)
    if not rows or not len(points):
        return found
    tree = shapely.STRtree(shapely.from_wkb([r.geom for r in rows]))
    for point_index, polygon_index in sorted(zip(*tree.query(points, predicate="intersects"), strict=True)):
        if found[point_index] is None:  # rows are in code order: the lowest code comes first
            found[point_index] = rows[polygon_index].squad_code
    return found


def squads_by_township(conn: Connection) -> dict[str, str]:
    """Squad code per township code, from the townships each squad lists; the lowest code where several do."""
    found: dict[str, str] = {}
    for code, townships in conn.execute(text("SELECT code, township_codes FROM squads ORDER BY code")).all():
        for township in townships or []:
            found.setdefault(township, code)
    return found


def squad_codes(conn: Connection) -> dict[str, str]:
    """Squad code keyed by code, name and short name (e.g. ``ZD01``, ``白洋中队``, ``白洋``)."""
    names: dict[str, str] = {}
    for code, name, short in conn.execute(text("SELECT code, name, short_name FROM squads ORDER BY code")).all():
        for key in (code, name, short, name.removesuffix("中队") if name else None):
            if key and key.strip():
                names.setdefault(key.strip(), code)
    return names


def split_names(value: str) -> list[str]:
    """Names joined by "、" (or commas, semicolons, slashes, spaces) as a list, empty ones dropped."""
    for separator in (",", "，", ";", "；", "/", " "):
        value = value.replace(separator, "、")
    return [v.strip() for v in value.split("、") if v.strip()]
