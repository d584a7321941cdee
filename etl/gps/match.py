"""Map-matching: each fix to the nearest street segment within a tolerance, preferring the direction of travel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.crs import from_wgs84


@dataclass(frozen=True)
class StreetIndex:
    """The street network cut into straight pieces in metric coordinates, with an STRtree over them.

    Attributes
    ----------
    segment
        ``street_segments.id`` of each piece.
    ax, ay, bx, by
        Piece end points (metres).
    angle
        Direction of each piece (radians, ``atan2(dy, dx)``).
    tree
        STRtree over the pieces.
    """

    segment: np.ndarray
    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    angle: np.ndarray
    tree: shapely.STRtree

    @property
    def empty(self) -> bool:
        """True when no street network is loaded."""
        return len(self.segment) == 0

    @classmethod
    def from_lines(cls, ids: np.ndarray, lines: np.ndarray, metric_crs: str) -> StreetIndex:
        """Build from WGS-84 LineStrings and their segment ids."""
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        if len(coords) == 0:
            empty = np.zeros(0)
            return cls(np.zeros(0, dtype=np.int64), empty, empty, empty, empty, empty, shapely.STRtree([]))
        mx, my = from_wgs84(coords[:, 0], coords[:, 1], metric_crs)
        inner = owner[1:] == owner[:-1]
        ax, ay, bx, by = mx[:-1][inner], my[:-1][inner], mx[1:][inner], my[1:][inner]
        segment = np.asarray(ids, dtype=np.int64)[owner[:-1][inner]]
        useful = (ax != bx) | (ay != by)
        ax, ay, bx, by, segment = ax[useful], ay[useful], bx[useful], by[useful], segment[useful]
        pieces = shapely.linestrings(np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], axis=1))
        return cls(segment, ax, ay, bx, by, np.arctan2(by - ay, bx - ax), shapely.STRtree(pieces))

    @classmethod
    def from_db(cls, conn: Connection, metric_crs: str) -> StreetIndex:
        """Load every street segment once."""
        rows = conn.execute(text("SELECT id, ST_AsBinary(geom) FROM street_segments ORDER BY id")).all()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        lines = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.zeros(0, dtype=object)
        return cls.from_lines(ids, lines, metric_crs)

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
        point, piece = self.tree.query(shapely.points(x, y), predicate="dwithin", distance=tolerance)
        if len(point) == 0:
            return segment, distance
        px, py = x[point], y[point]
        ax, ay, bx, by = self.ax[piece], self.ay[piece], self.bx[piece], self.by[piece]
        dx, dy = bx - ax, by - ay
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
        turn = np.abs(np.sin(direction[point] - self.angle[piece]))  # 0 along the segment, 1 across it
        cost = d + heading_weight * np.nan_to_num(turn, nan=0.0)
        order = np.lexsort((cost, point))
        best = order[np.r_[True, point[order][1:] != point[order][:-1]]]
        segment[point[best]] = self.segment[piece[best]]
        distance[point[best]] = d[best]
        return segment, distance
