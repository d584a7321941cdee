"""H3 cells: points to cells, study area cells, contiguity weights, cell polygons and areas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import h3
import numpy as np
import scipy.sparse as sp

DEFAULT_RESOLUTION = 9  # about 0.105 km² per cell


def point_cells(lat: np.ndarray, lon: np.ndarray, resolution: int) -> np.ndarray:
    """The H3 cell (as int64) of each point."""
    to_cell = h3.api.basic_int.latlng_to_cell
    return np.fromiter(
        (to_cell(a, b, resolution) for a, b in zip(np.asarray(lat, float), np.asarray(lon, float), strict=True)),
        dtype=np.uint64,
        count=len(lat),
    ).astype(np.int64)


def with_rings(cells: np.ndarray, k: int = 1) -> np.ndarray:
    """The cells plus every cell within ``k`` steps of them (sorted, unique)."""
    if k <= 0 or len(cells) == 0:
        return np.unique(cells)
    disk = h3.api.basic_int.grid_disk
    extra = [c for cell in np.unique(cells).tolist() for c in disk(int(np.uint64(cell)), k)]
    return np.unique(np.asarray(extra, dtype=np.uint64).astype(np.int64))


def contiguity(cells: np.ndarray, k: int = 1, known: dict[int, list[int]] | None = None) -> sp.csr_matrix:
    """Binary weights between ``cells`` (sorted unique int64): 1 when within ``k`` grid steps (no diagonal).

    ``known`` may hold ``grid_disk`` results already computed (keyed by the unsigned cell).
    """
    cells = np.asarray(cells, dtype=np.int64)
    n = len(cells)
    if n == 0:
        return sp.csr_matrix((0, 0))
    disk = h3.api.basic_int.grid_disk
    known = known or {}
    disks = [known.get(cell) or disk(cell, k) for cell in cells.astype(np.uint64).tolist()]
    sizes = np.fromiter((len(d) for d in disks), dtype=np.int64, count=n)
    flat = np.fromiter((c for d in disks for c in d), dtype=np.uint64, count=int(sizes.sum())).astype(np.int64)
    rows = np.repeat(np.arange(n), sizes)
    pos = np.searchsorted(cells, flat)
    pos[pos >= n] = 0
    keep = (cells[pos] == flat) & (pos != rows)
    return sp.csr_matrix((np.ones(int(keep.sum())), (rows[keep], pos[keep])), shape=(n, n))


def study_area(observed: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
    """The observed cells plus their first ring (sorted int64), and the contiguity between them.

    Same result as ``with_rings(observed, 1)`` and ``contiguity`` of those cells, computing each
    cell's ``grid_disk`` once.
    """
    unique = np.unique(np.asarray(observed, dtype=np.int64))
    disk = h3.api.basic_int.grid_disk
    known = {cell: disk(cell, 1) for cell in unique.astype(np.uint64).tolist()}
    extra = [c for ring in known.values() for c in ring]
    cells = np.unique(np.asarray(extra, dtype=np.uint64).astype(np.int64)) if extra else unique
    return cells, contiguity(cells, 1, known)


def cell_boundaries(cells: Sequence[int]) -> list[list[tuple[float, float]]]:
    """Boundary rings (lon, lat), closed, of each cell."""
    boundary = h3.api.basic_int.cell_to_boundary
    rings = []
    for cell in cells:
        ring = [(round(lng, 5), round(lat, 5)) for lat, lng in boundary(int(np.uint64(cell)))]
        ring.append(ring[0])
        rings.append(ring)
    return rings


def cell_geojson(cells: Sequence[int]) -> dict[str, Any]:
    """GeoJSON FeatureCollection of the cells with ``id`` = the cell's hex string."""
    features = [
        {"type": "Feature", "id": h3.int_to_str(int(np.uint64(c))), "geometry": {"type": "Polygon", "coordinates": [r]}}
        for c, r in zip(cells, cell_boundaries(cells), strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def cell_ids(cells: Sequence[int]) -> list[str]:
    """Hex strings of int cells."""
    return [h3.int_to_str(int(np.uint64(c))) for c in cells]


def cell_centres(cells: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes of the cell centres."""
    centre = h3.api.basic_int.cell_to_latlng
    pts = np.array([centre(int(np.uint64(c))) for c in cells], dtype=float).reshape(-1, 2)
    return pts[:, 0], pts[:, 1]


def cell_area_km2(resolution: int) -> float:
    """Average area of a cell at ``resolution`` in km²."""
    return float(h3.average_hexagon_area(resolution, unit="km^2"))
