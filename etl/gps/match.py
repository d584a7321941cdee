"""Map-matching: each fix to the nearest street segment within a tolerance, preferring the direction of travel.

The street network is cut into straight pieces and bucketed in a uniform grid (cells as wide as the
tolerance, each piece listed in every cell within the tolerance of it), so finding the candidates of
a million fixes is a few numpy gathers; distances and angles are exact point-to-piece geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.crs import from_wgs84

JUNCTION_TIE_M = 1e-3  # decides between equally near segments at a junction, nothing else


@dataclass(frozen=True)
class StreetIndex:
    """The street network cut into straight pieces in metric coordinates, with a grid over them.

    Attributes
    ----------
    segment
        ``street_segments.id`` of each piece.
    ax, ay, bx, by
        Piece end points (metres).
    angle
        Direction of each piece (radians, ``atan2(dy, dx)``).
    cell
        Grid cell size (metres) and origin: ``(size, x0, y0, columns, rows)``.
    cell_start, cell_pieces
        Pieces listed per cell (CSR layout: the pieces of cell ``c`` are
        ``cell_pieces[cell_start[c]:cell_start[c + 1]]``).
    """

    segment: np.ndarray
    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    angle: np.ndarray
    cell: tuple[float, float, float, int, int]
    cell_start: np.ndarray
    cell_pieces: np.ndarray

    @property
    def empty(self) -> bool:
        """True when no street network is loaded."""
        return len(self.segment) == 0

    @classmethod
    def from_lines(cls, ids: np.ndarray, lines: np.ndarray, metric_crs: str, tolerance: float = 30.0) -> StreetIndex:
        """Build from WGS-84 LineStrings and their segment ids, for queries up to ``tolerance`` metres."""
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        if len(coords) < 2:
            empty = np.zeros(0)
            none = np.zeros(0, dtype=np.int64)
            return cls(
                none, empty, empty, empty, empty, empty, (tolerance, 0.0, 0.0, 0, 0), np.zeros(1, np.int64), none
            )
        mx, my = from_wgs84(coords[:, 0], coords[:, 1], metric_crs)
        inner = owner[1:] == owner[:-1]
        ax, ay, bx, by = mx[:-1][inner], my[:-1][inner], mx[1:][inner], my[1:][inner]
        segment = np.asarray(ids, dtype=np.int64)[owner[:-1][inner]]
        useful = (ax != bx) | (ay != by)
        ax, ay, bx, by, segment = ax[useful], ay[useful], bx[useful], by[useful], segment[useful]
        size = float(tolerance)
        x0, y0 = float(min(ax.min(), bx.min()) - 2 * size), float(min(ay.min(), by.min()) - 2 * size)
        columns = int((max(ax.max(), bx.max()) - x0) // size) + 3
        rows = int((max(ay.max(), by.max()) - y0) // size) + 3
        # every cell the piece's bounding box, widened by the tolerance, touches
        c0 = ((np.minimum(ax, bx) - size - x0) // size).astype(np.int64)
        c1 = ((np.maximum(ax, bx) + size - x0) // size).astype(np.int64)
        r0 = ((np.minimum(ay, by) - size - y0) // size).astype(np.int64)
        r1 = ((np.maximum(ay, by) + size - y0) // size).astype(np.int64)
        width, height = c1 - c0 + 1, r1 - r0 + 1
        count = width * height
        piece = np.repeat(np.arange(len(ax)), count)
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        col = c0[piece] + offset % width[piece]
        row = r0[piece] + offset // width[piece]
        cells = row * columns + col
        order = np.argsort(cells, kind="stable")
        cell_start = np.searchsorted(cells[order], np.arange(rows * columns + 1))
        return cls(
            segment,
            ax,
            ay,
            bx,
            by,
            np.arctan2(by - ay, bx - ax),
            (size, x0, y0, columns, rows),
            cell_start,
            piece[order],
        )

    def candidates(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (point, piece) of every piece listed in each point's grid cell."""
        size, x0, y0, columns, rows = self.cell
        col = np.floor((x - x0) / size).astype(np.int64)
        row = np.floor((y - y0) / size).astype(np.int64)
        inside = (col >= 0) & (col < columns) & (row >= 0) & (row < rows)
        cell = np.where(inside, row * columns + col, 0)
        start = np.where(inside, self.cell_start[cell], 0)
        count = np.where(inside, self.cell_start[cell + 1] - start, 0)
        point = np.repeat(np.arange(len(x)), count)
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        return point, self.cell_pieces[start[point] + offset]

    @classmethod
    def from_db(cls, conn: Connection, metric_crs: str, tolerance: float = 30.0) -> StreetIndex:
        """Load every street segment once."""
        rows = conn.execute(text("SELECT id, ST_AsBinary(geom) FROM street_segments ORDER BY id")).all()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        lines = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.zeros(0, dtype=object)
        return cls.from_lines(ids, lines, metric_crs, tolerance)

    def match(
        self,
        x: np.ndarray,
        y: np.ndarray,
        direction: np.ndarray,
        tolerance: float,
        heading_weight: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best segment of each point: least ``distance + heading_weight * sin(angle to the segment)``.

        Parameters
        ----------
        x, y
            Points in metres.
        direction
            Direction of travel (radians, ``atan2(dy, dx)``), NaN where unknown (then the nearest wins).
        tolerance
            Farthest distance to a segment.
        heading_weight
            Metres added for a segment at right angles to the direction of travel.

        Returns
        -------
        segment, distance
            Segment id (-1 where none lies within the tolerance) and the distance to it (NaN there).
        """
        n = len(x)
        segment = np.full(n, -1, dtype=np.int64)
        distance = np.full(n, np.nan)
        if self.empty or n == 0:
            return segment, distance
        if tolerance > self.cell[0]:
            raise ValueError(f"tolerance {tolerance} m exceeds the {self.cell[0]} m the index was built for")
        point, piece = self.candidates(x, y)
        if len(point) == 0:
            return segment, distance
        px, py = x[point], y[point]
        ax, ay, bx, by = self.ax[piece], self.ay[piece], self.bx[piece], self.by[piece]
        dx, dy = bx - ax, by - ay
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
        close = d <= tolerance
        point, piece, d, t = point[close], piece[close], d[close], t[close]
        if len(point) == 0:
            return segment, distance
        relative = direction[point] - self.angle[piece]
        turn = np.abs(np.sin(relative))  # 0 along the segment, 1 across it
        along = np.cos(relative)
        # at a junction shared by two segments, prefer the one the subject is heading into
        leaving = ((t >= 1.0) & (along > 0)) | ((t <= 0.0) & (along < 0))
        cost = d + heading_weight * np.nan_to_num(turn, nan=0.0) + JUNCTION_TIE_M * leaving
        order = np.lexsort((self.segment[piece], cost, point))
        best = order[np.r_[True, point[order][1:] != point[order][:-1]]]
        segment[point[best]] = self.segment[piece[best]]
        distance[point[best]] = d[best]
        return segment, distance
