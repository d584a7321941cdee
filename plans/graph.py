"""The routing graph: street segments cut at their shared ends and crossings, stored for pgRouting.

Nodes are segment ends and points where two segments cross or one ends on another (a T-junction),
merged when closer than :data:`SNAP_M`; each segment becomes one edge per piece between nodes, in
its digitising direction, with its length in metres in the region's metric CRS (EPSG:4549) as
``cost`` and ``reverse_cost`` (−1 against a one-way street, the pgRouting convention). The graph
is rebuilt lazily: :func:`ensure_graph` compares the streets' fingerprint (last streets run, count
and id range of the segments) with the one stored at the last build. Connected pieces come from
``pgr_connectedComponents``; :func:`network_pieces` reports the pieces a squad's streets fall in.

Connected is not enough where streets are one-way: a piece can be entered but not left (a one-way
loop with no street out), or left but not entered. :func:`strong_pieces` labels the nodes of a piece
by ``pgr_strongComponents`` on the directed graph (the edges' ``cost`` / ``reverse_cost``, as routing
uses them) and says, for each strongly connected part, whether a route from a reference part (the
largest, or the one holding the station) can enter it and whether it can come back from it;
:func:`one_way_traps` names the segments of a squad that lie in such parts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.ops import substring
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.crs import transform_geometry
from geo.models import RouteGraphBuild, RouteGraphEdge, RouteGraphNode
from geo.region import get_region
from geo.spatial import to_metric
from layers._frames import read_frame
from layers._geometry import from_wkb
from layers._segment_labels import segment_labels

SNAP_M = 1.0  # ends and crossings closer than this are one node
MIN_PIECE_M = 0.5  # a crossing this close to a segment end is that end
LOCK_KEY = 16_0001  # advisory lock of a rebuild
FORWARD = ("FT",)
BACKWARD = ("TF",)


@dataclass(frozen=True)
class GraphInfo:
    """The graph's last build: id, fingerprint of the streets it was built from, sizes and pieces."""

    build_id: int
    source_key: str
    nodes: int
    edges: int
    components: int
    rebuilt: bool


def source_key(conn: Connection) -> str:
    """Fingerprint of the loaded streets: last successful streets run, segment count, id range, one-ways."""
    row = conn.execute(
        text(
            """SELECT (SELECT max(id) FROM etl_runs WHERE job = 'streets' AND status = 'succeeded'),
                      count(*), min(id), max(id), count(oneway) FROM street_segments"""
        )
    ).one()
    return ":".join("-" if v is None else str(v) for v in row)


def _clusters(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Label points (n×2, metres) so that points closer than ``tolerance`` share a label (union-find)."""
    n = len(points)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    geoms = shapely.points(points)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance)
    for a, b in zip(left[left < right], right[left < right], strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(n)])
    _, labels = np.unique(roots, return_inverse=True)
    return labels


def _cut_positions(lines: np.ndarray) -> list[list[float]]:
    """Distances along each line (metres) where it must be cut: its ends, crossings and touching ends."""
    lengths = shapely.length(lines)
    cuts: list[set[float]] = [{0.0, float(length)} for length in lengths]
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="dwithin", distance=SNAP_M)
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left):
        crossings = shapely.intersection(lines[left], lines[right])
        for a, b, where in zip(left, right, crossings, strict=True):
            points = _points_of(where)
            # an end of one line within SNAP_M of the other (a T-junction drawn a little short)
            for end in (shapely.get_point(lines[a], 0), shapely.get_point(lines[a], -1)):
                if shapely.distance(end, lines[b]) <= SNAP_M:
                    points.append(end)
            for end in (shapely.get_point(lines[b], 0), shapely.get_point(lines[b], -1)):
                if shapely.distance(end, lines[a]) <= SNAP_M:
                    points.append(end)
            for point in points:
                for i in (a, b):
                    d = float(shapely.line_locate_point(lines[i], point))
                    if MIN_PIECE_M < d < lengths[i] - MIN_PIECE_M:
                        cuts[i].add(d)
    return [_merge_close(sorted(c), float(length)) for c, length in zip(cuts, lengths, strict=True)]


def _merge_close(positions: list[float], length: float) -> list[float]:
    """Positions with near-duplicates (closer than MIN_PIECE_M, float noise of one crossing) merged."""
    out = [0.0]
    for d in positions[1:-1]:
        if d - out[-1] >= MIN_PIECE_M and length - d >= MIN_PIECE_M:
            out.append(d)
    return [*out, length]


def _points_of(geom) -> list:
    """The points of an intersection: points themselves, the ends of overlapping pieces."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Point":
            out.append(part)
        elif part.geom_type == "LineString" and not part.is_empty:
            out += [shapely.get_point(part, 0), shapely.get_point(part, -1)]
    return out


def topology(segment_ids: np.ndarray, geoms_wgs84: np.ndarray, oneway: list[str | None], metric_crs: str) -> dict:
    """Nodes and edges of the network (pure: no database).

    Returns
    -------
    dict
        ``nodes``: array n×2 of node coordinates (metric); ``edges``: list of dicts with
        ``segment_id``, ``part``, ``source``, ``target``, ``length_m``, ``cost``, ``reverse_cost``
        and ``geom`` (metric LineString).
    """
    lines = to_metric(np.asarray(geoms_wgs84, dtype=object), metric_crs)
    cuts = _cut_positions(lines)
    pieces: list[tuple[int, int, object]] = []
    ends: list[tuple[float, float]] = []
    for i, positions in enumerate(cuts):
        part = 0
        for a, b in itertools.pairwise(positions):
            piece = substring(lines[i], a, b) if (a, b) != (0.0, positions[-1]) else lines[i]
            if piece.geom_type != "LineString" or piece.length <= 0:
                continue
            pieces.append((i, part, piece))
            part += 1
            coords = shapely.get_coordinates(piece)
            ends += [tuple(coords[0]), tuple(coords[-1])]
    if not pieces:
        return {"nodes": np.empty((0, 2)), "edges": []}
    labels = _clusters(np.asarray(ends), SNAP_M)
    node_xy = np.zeros((labels.max() + 1, 2))
    node_xy[labels] = np.asarray(ends)
    edges = []
    for k, (i, part, piece) in enumerate(pieces):
        length = float(piece.length)
        direction = oneway[i].upper() if isinstance(oneway[i], str) else ""
        edges.append(
            dict(
                segment_id=int(segment_ids[i]),
                part=part,
                source=int(labels[2 * k]) + 1,
                target=int(labels[2 * k + 1]) + 1,
                length_m=round(length, 2),
                cost=-1.0 if direction in BACKWARD else round(length, 2),
                reverse_cost=-1.0 if direction in FORWARD else round(length, 2),
                geom=piece,
            )
        )
    return {"nodes": node_xy, "edges": edges}


def build_graph(conn: Connection) -> GraphInfo:
    """Rebuild the routing graph from every street segment, in the caller's transaction."""
    region = get_region()
    key = source_key(conn)
    frame = read_frame(conn, "SELECT id, oneway, ST_AsBinary(geom) AS wkb FROM street_segments ORDER BY id")
    geoms = from_wkb(frame["wkb"]) if len(frame) else np.array([], dtype=object)
    built = topology(frame["id"].to_numpy(), geoms, frame["oneway"].tolist(), region.metric_crs)
    conn.execute(text("DELETE FROM route_graph_edges"))
    conn.execute(text("DELETE FROM route_graph_nodes"))
    nodes_wgs = transform_geometry(shapely.points(built["nodes"]), region.metric_crs) if len(built["nodes"]) else []
    if len(nodes_wgs):
        conn.execute(
            RouteGraphNode.__table__.insert(),
            [{"id": i + 1, "component": 0, "geom": f"SRID=4326;{p.wkt}"} for i, p in enumerate(nodes_wgs)],
        )
    if built["edges"]:
        pieces = transform_geometry(np.array([e["geom"] for e in built["edges"]], dtype=object), region.metric_crs)
        rows = [
            {**e, "id": k + 1, "geom": f"SRID=4326;{shapely.to_wkt(g, rounding_precision=8)}"}
            for k, (e, g) in enumerate(zip(built["edges"], pieces, strict=True))
        ]
        conn.execute(RouteGraphEdge.__table__.insert(), rows)
    components = _label_components(conn)
    stats = {"pieces": _piece_sizes(conn)}
    build_id = conn.execute(
        RouteGraphBuild.__table__.insert()
        .values(
            source_key=key, nodes=len(built["nodes"]), edges=len(built["edges"]), components=components, stats=stats
        )
        .returning(RouteGraphBuild.__table__.c.id)
    ).scalar_one()
    return GraphInfo(build_id, key, len(built["nodes"]), len(built["edges"]), components, rebuilt=True)


def _label_components(conn: Connection) -> int:
    """Number the connected pieces by size (1 = largest, by node count) with ``pgr_connectedComponents``."""
    if not conn.execute(text("SELECT EXISTS (SELECT 1 FROM route_graph_edges)")).scalar_one():
        return 0
    conn.execute(
        text(
            """WITH cc AS (
                   SELECT node, component FROM pgr_connectedComponents(
                       'SELECT id, source, target, length_m AS cost, length_m AS reverse_cost FROM route_graph_edges')),
               ranked AS (
                   SELECT component, row_number() OVER (ORDER BY count(*) DESC, component) AS rank
                   FROM cc GROUP BY component)
               UPDATE route_graph_nodes n SET component = r.rank
               FROM cc JOIN ranked r USING (component) WHERE n.id = cc.node"""
        )
    )
    return int(conn.execute(text("SELECT count(DISTINCT component) FROM route_graph_nodes")).scalar_one())


def _piece_sizes(conn: Connection) -> list[dict]:
    """Per piece: nodes, edges and km of street."""
    frame = read_frame(
        conn,
        """SELECT n.component AS piece, count(*) AS edges, sum(e.length_m) / 1000.0 AS km,
                  (SELECT count(*) FROM route_graph_nodes m WHERE m.component = n.component) AS nodes
           FROM route_graph_edges e JOIN route_graph_nodes n ON n.id = e.source
           GROUP BY n.component ORDER BY n.component""",
    )
    frame["km"] = frame["km"].astype(float).round(3)
    return frame.to_dict("records")


def ensure_graph(conn: Connection, force: bool = False) -> GraphInfo:
    """The current graph, rebuilt first when the streets changed since the last build (or ``force``)."""
    key = source_key(conn)
    if not force:
        last = _last_build(conn)
        if last is not None and last.source_key == key:
            return last
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    if not force:  # another session may have built it while we waited
        last = _last_build(conn)
        if last is not None and last.source_key == key:
            return last
    return build_graph(conn)


def _last_build(conn: Connection) -> GraphInfo | None:
    row = conn.execute(
        text("SELECT id, source_key, nodes, edges, components FROM route_graph_builds ORDER BY id DESC LIMIT 1")
    ).first()
    return None if row is None else GraphInfo(*row, rebuilt=False)


def network_pieces(conn: Connection, squad_code: str) -> list[dict]:
    """The connected pieces a squad's segments lie in: piece number, segments and km of the squad's streets.

    More than one entry means the squad's network is in pieces: a route cannot go from one to another.
    Each piece also lists its one-way traps (``traps``, see :func:`one_way_traps`): parts of it a route
    from the piece's main part cannot enter, or cannot leave and come back from.
    """
    frame = read_frame(
        conn,
        """SELECT n.component AS piece, count(DISTINCT s.id) AS segments, sum(e.length_m) / 1000.0 AS km,
                  (array_agg(DISTINCT s.name) FILTER (WHERE s.name IS NOT NULL))[1:5] AS names
           FROM street_segments s JOIN route_graph_edges e ON e.segment_id = s.id
           JOIN route_graph_nodes n ON n.id = e.source
           WHERE s.squad_code = :squad GROUP BY n.component ORDER BY n.component""",
        {"squad": squad_code},
    )
    frame["km"] = frame["km"].astype(float).round(3)
    pieces = frame.to_dict("records")
    traps = one_way_traps(conn, squad_code)
    for piece in pieces:
        piece["traps"] = [t for t in traps if t["piece"] == piece["piece"]]
    return pieces


# how a strongly connected part relates to the reference part of its piece
NO_RETURN = "no_return"  # a route can enter it but not come back
NO_ENTRY = "no_entry"  # a route cannot enter it (one can only leave it)
CUT_OFF = "cut_off"  # neither: between two traps
TRAP_LABELS = {NO_RETURN: "进入后无法返回", NO_ENTRY: "无法驶入", CUT_OFF: "无法进出"}


@dataclass(frozen=True)
class StrongPieces:
    """Nodes of some pieces labelled by strongly connected part, relative to one reference part.

    ``part``: node id → part label; ``reference``: the reference part's label; ``kind``: part label →
    :data:`NO_RETURN`, :data:`NO_ENTRY` or :data:`CUT_OFF` for every part other than the reference;
    ``largest``: the label of the part with most nodes (the main street network).
    """

    part: dict[int, int]
    reference: int
    kind: dict[int, str]
    largest: int

    def round_trip(self, node: int) -> bool:
        """True when a route from the reference part can reach ``node`` and come back."""
        return self.part.get(node) == self.reference


def strong_pieces(conn: Connection, pieces: Sequence[int], reference_node: int | None = None) -> StrongPieces:
    """Strongly connected parts of the given connected ``pieces`` (``pgr_strongComponents``, directed).

    Parameters
    ----------
    conn
        Database connection.
    pieces
        Connected pieces (``route_graph_nodes.component``) to look at.
    reference_node
        The part holding this node (a station) is the reference; default: the largest part (nodes).
    """
    frame = read_frame(
        conn,
        """WITH sc AS (
               SELECT node, component AS part FROM pgr_strongComponents(
                   format('SELECT e.id, e.source, e.target, e.cost, e.reverse_cost FROM route_graph_edges e
                           JOIN route_graph_nodes n ON n.id = e.source WHERE n.component = ANY(%L)',
                          CAST(:pieces AS integer[])))),
           links AS (
               SELECT a.part AS a, b.part AS b FROM route_graph_edges e
               JOIN sc a ON a.node = e.source JOIN sc b ON b.node = e.target WHERE e.cost >= 0 AND a.part <> b.part
               UNION
               SELECT b.part, a.part FROM route_graph_edges e
               JOIN sc a ON a.node = e.source JOIN sc b ON b.node = e.target
               WHERE e.reverse_cost >= 0 AND a.part <> b.part)
           SELECT 'node' AS what, node AS a, part AS b FROM sc
           UNION ALL SELECT 'link', a, b FROM links""",
        {"pieces": [int(p) for p in pieces]},
    )
    nodes = frame[frame["what"] == "node"]
    part = dict(zip(nodes["a"].astype(int), nodes["b"].astype(int), strict=True))
    if not part:
        return StrongPieces({}, 0, {}, 0)
    largest = int(nodes["b"].value_counts().sort_index().idxmax())
    reference = part.get(int(reference_node), largest) if reference_node is not None else largest
    links = frame[frame["what"] == "link"]
    pairs = list(zip(links["a"].astype(int), links["b"].astype(int), strict=True))
    forward = _reachable(reference, pairs)
    backward = _reachable(reference, [(b, a) for a, b in pairs])
    kind = {}
    for p in set(part.values()) - {reference}:
        kind[p] = NO_RETURN if p in forward else NO_ENTRY if p in backward else CUT_OFF
    return StrongPieces(part, reference, kind, largest)


def _reachable(start: int, pairs: list[tuple[int, int]]) -> set[int]:
    """Labels reachable from ``start`` along the directed ``pairs`` (the parts' condensation graph)."""
    nexts: dict[int, list[int]] = {}
    for a, b in pairs:
        nexts.setdefault(a, []).append(b)
    seen, todo = {start}, [start]
    while todo:
        for b in nexts.get(todo.pop(), []):
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


def segments_off_round_trip(conn: Connection, segment_ids: Sequence[int], strong: StrongPieces) -> dict[int, int]:
    """Segments (of ``segment_ids``) with a node outside the reference part → that part's label.

    A segment is patrolled by entering it at one end and leaving at the other, so both ends (and every
    crossing on it) must be in the reference part for a route to go there and come back.
    """
    frame = read_frame(
        conn,
        "SELECT segment_id, source, target FROM route_graph_edges WHERE segment_id = ANY(:ids)",
        {"ids": [int(s) for s in segment_ids]},
    )
    out: dict[int, int] = {}
    for sid, source, target in frame.itertuples(index=False):
        for node in (int(source), int(target)):
            p = strong.part.get(node)
            if p is not None and p != strong.reference and int(sid) not in out:
                out[int(sid)] = p
    return out


def one_way_traps(conn: Connection, squad_code: str) -> list[dict]:
    """The squad's segments a route cannot go to and come back from because of one-way streets.

    Per connected piece of the squad's network, one entry per strongly connected part other than the
    piece's largest, as dicts: ``piece``, ``kind`` (:data:`NO_RETURN`, :data:`NO_ENTRY`,
    :data:`CUT_OFF`), ``segments`` (ids, a segment leading into or out of the part counts as in it),
    ``labels`` (``layers._segment_labels``) and ``km``.
    """
    frame = read_frame(
        conn,
        """SELECT DISTINCT n.component AS piece, s.id AS segment_id, s.length_m
           FROM street_segments s JOIN route_graph_edges e ON e.segment_id = s.id
           JOIN route_graph_nodes n ON n.id = e.source WHERE s.squad_code = :squad""",
        {"squad": squad_code},
    )
    out = []
    for piece, group in frame.groupby("piece"):
        strong = strong_pieces(conn, [int(piece)])
        off = segments_off_round_trip(conn, group["segment_id"].tolist(), strong)
        if not off:
            continue
        labels = segment_labels(conn, list(off))["label"]
        length = group.set_index("segment_id")["length_m"].astype(float)
        for part in sorted(set(off.values())):
            ids = sorted(s for s, p in off.items() if p == part)
            out.append(
                {
                    "piece": int(piece),
                    "kind": strong.kind[part],
                    "segments": ids,
                    "labels": [labels[s] for s in ids],
                    "km": round(float(length.reindex(ids).sum()) / 1000, 3),
                }
            )
    return out
