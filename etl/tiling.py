"""Do polygons tile an outline? Gaps, overlaps and spill-over beyond it, with area (m²) and location (lon/lat).

Everything is measured in the region's metric CRS. A piece counts when its area exceeds the
area tolerance and it is wider than the width tolerance (thin slivers along shared borders,
left by digitising, are not reported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import transform_geometry

AREA_TOLERANCE_M2 = 10_000.0  # 1 ha
WIDTH_TOLERANCE_M = 5.0


@dataclass(frozen=True)
class Piece:
    """A gap, overlap or spill: its area, where it is, and the squads concerned."""

    kind: str  # gap / overlap / outside
    area_m2: float
    lon: float
    lat: float
    squads: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the run's warnings."""
        who = f" between {' and '.join(self.squads)}" if self.kind == "overlap" else ""
        who = f" of {self.squads[0]}" if self.kind == "outside" and self.squads else who
        label = {"gap": "gap", "overlap": "overlap", "outside": "area beyond the county outline"}[self.kind]
        return f"jurisdiction {label}{who}: {self.area_m2:,.0f} m² around {self.lon:.5f}, {self.lat:.5f}"


def _pieces(geom: BaseGeometry) -> list[BaseGeometry]:
    return [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and not p.is_empty]


def _significant(piece: BaseGeometry, area_tol: float, width_tol: float) -> bool:
    return piece.area > area_tol and not piece.buffer(-width_tol / 2).is_empty


def _piece(kind: str, geom: BaseGeometry, metric_crs: str, squads: tuple[str, ...] = ()) -> Piece:
    centre = transform_geometry(geom.representative_point(), metric_crs)
    return Piece(kind, float(geom.area), float(centre.x), float(centre.y), squads)


def check_tiling(
    polygons: dict[str, BaseGeometry],
    outline: BaseGeometry,
    metric_crs: str,
    area_tol_m2: float = AREA_TOLERANCE_M2,
    width_tol_m: float = WIDTH_TOLERANCE_M,
) -> list[Piece]:
    """Gaps, overlaps and spills of ``polygons`` (WGS-84, keyed by squad code) against ``outline``.

    Returns
    -------
    list[Piece]
        Significant pieces, largest first within each kind.
    """
    codes = list(polygons)
    metric = transform_geometry(np.asarray([polygons[c] for c in codes], dtype=object), metric_crs, inverse=True)
    metric = shapely.make_valid(metric)
    county = shapely.make_valid(transform_geometry(outline, metric_crs, inverse=True))
    found: list[Piece] = []

    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        common = shapely.intersection(metric[i], metric[j])
        for part in _pieces(common):
            if _significant(part, area_tol_m2, width_tol_m):
                found.append(_piece("overlap", part, metric_crs, (codes[i], codes[j])))

    union = shapely.union_all(metric)
    for part in _pieces(shapely.difference(county, union)):
        if _significant(part, area_tol_m2, width_tol_m):
            found.append(_piece("gap", part, metric_crs))
    for code, geom in zip(codes, metric, strict=True):
        for part in _pieces(shapely.difference(geom, county)):
            if _significant(part, area_tol_m2, width_tol_m):
                found.append(_piece("outside", part, metric_crs, (code,)))
    order = {"gap": 0, "overlap": 1, "outside": 2}
    return sorted(found, key=lambda p: (order[p.kind], -p.area_m2))
