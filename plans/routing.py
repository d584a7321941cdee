"""Shortest paths on the routing graph with pgRouting: a cost matrix between nodes, and the paths themselves.

Searches run on the edges inside a box around the nodes asked for (``margin_m`` beyond them), so a
squad's plan does not search the whole county; costs are metres, directed (one-way streets kept).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.engine import Connection

from layers._frames import read_frame
from layers._geometry import from_wkb

DEFAULT_MARGIN_M = 1500.0
_DEG_PER_M = 1.0 / 111_000.0


def _edges_sql(bbox: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = (float(v) for v in bbox)
    return (
        "SELECT id, source, target, cost, reverse_cost FROM route_graph_edges "
        f"WHERE geom && ST_MakeEnvelope({x0!r}, {y0!r}, {x1!r}, {y1!r}, 4326)"
    )


def search_box(conn: Connection, nodes: Sequence[int], margin_m: float = DEFAULT_MARGIN_M) -> tuple:
    """The WGS-84 box around ``nodes`` widened by ``margin_m`` (degrees approximated at this latitude)."""
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e "
            "FROM route_graph_nodes WHERE id = ANY(:ids)) b"
        ),
        {"ids": [int(n) for n in nodes]},
    ).one()
    pad = margin_m * _DEG_PER_M
    return (row[0] - pad * 1.2, row[1] - pad, row[2] + pad * 1.2, row[3] + pad)


def cost_matrix(conn: Connection, nodes: Sequence[int], bbox: tuple) -> np.ndarray:
    """Shortest-path metres between every ordered pair of ``nodes`` (``pgr_dijkstraCostMatrix``, directed).

    Unreachable pairs are ``inf``; the diagonal is 0.
    """
    ids = [int(n) for n in nodes]
    out = np.full((len(ids), len(ids)), np.inf)
    np.fill_diagonal(out, 0.0)
    if len(set(ids)) < 2:
        return out
    frame = read_frame(
        conn,
        "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCostMatrix(:edges, CAST(:ids AS bigint[]), true)",
        {"edges": _edges_sql(bbox), "ids": sorted(set(ids))},
    )
    if len(frame):
        position = pd.Series(range(len(ids)), index=ids)
        position = position[~position.index.duplicated()]
        rows = position.reindex(frame["start_vid"].to_numpy()).to_numpy()
        cols = position.reindex(frame["end_vid"].to_numpy()).to_numpy()
        out[rows, cols] = frame["agg_cost"].to_numpy(float)
    return out


def paths(conn: Connection, pairs: Sequence[tuple[int, int]], bbox: tuple) -> dict[tuple[int, int], list]:
    """The edge-by-edge path of each (from node, to node) pair, as oriented WGS-84 LineStrings.

    Uses ``pgr_dijkstra`` with a combinations query (one search per distinct start). A pair whose
    nodes are equal gets an empty path; an unreachable pair is missing from the result.
    """
    wanted = sorted({(int(a), int(b)) for a, b in pairs if a != b})
    result: dict[tuple[int, int], list] = {(int(a), int(b)): [] for a, b in pairs if a == b}
    if not wanted:
        return result
    values = ", ".join(f"({a}, {b})" for a, b in wanted)
    frame = read_frame(
        conn,
        f"""SELECT p.start_vid, p.end_vid, p.path_seq, p.node, p.edge, e.source, ST_AsBinary(e.geom) AS wkb
            FROM pgr_dijkstra(:edges, 'SELECT * FROM (VALUES {values}) AS t(source, target)', true) p
            JOIN route_graph_edges e ON e.id = p.edge
            ORDER BY p.start_vid, p.end_vid, p.path_seq""",
        {"edges": _edges_sql(bbox)},
    )
    if len(frame) == 0:
        return result
    geoms = from_wkb(frame["wkb"])
    forward = frame["node"].to_numpy() == frame["source"].to_numpy()
    oriented = np.where(forward, geoms, shapely.reverse(geoms))
    keys = list(zip(frame["start_vid"].astype(int), frame["end_vid"].astype(int), strict=True))
    for key, geom in zip(keys, oriented, strict=True):
        result.setdefault(key, []).append(geom)
    return result


def segment_path(conn: Connection, segment_ids: Sequence[int]) -> dict[int, dict]:
    """Per segment: its first and last node and its pieces in digitising order (for walking it)."""
    frame = read_frame(
        conn,
        """SELECT segment_id, part, source, target, length_m, cost, reverse_cost, ST_AsBinary(geom) AS wkb
           FROM route_graph_edges WHERE segment_id = ANY(:ids) ORDER BY segment_id, part""",
        {"ids": [int(s) for s in segment_ids]},
    )
    out: dict[int, dict] = {}
    if len(frame) == 0:
        return out
    frame["geom"] = from_wkb(frame["wkb"])
    for sid, group in frame.groupby("segment_id"):
        out[int(sid)] = {
            "start": int(group["source"].iloc[0]),
            "end": int(group["target"].iloc[-1]),
            "length_m": float(group["length_m"].sum()),
            "forward": bool((group["cost"] >= 0).all()),
            "backward": bool((group["reverse_cost"] >= 0).all()),
            "pieces": list(group["geom"]),
        }
    return out


def nearest_node(conn: Connection, lon: float, lat: float, max_m: float) -> tuple[int, float] | None:
    """The graph node nearest to a point, with its distance in metres, if within ``max_m``."""
    row = conn.execute(
        text(
            """SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) AS d
               FROM route_graph_nodes ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:x, :y), 4326) LIMIT 1"""
        ),
        {"x": lon, "y": lat},
    ).first()
    if row is None or row[1] > max_m:
        return None
    return int(row[0]), float(row[1])
