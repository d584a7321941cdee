"""A SYNTHETIC street network for the demo: urban grid, town centres, roads between seats, village roads.

Nothing here is a surveyed road: the layout is generated around the real township and village
seats so that addresses, patrols and cases have streets to refer to. The bureau's own network
(any GeoJSON / Shapefile of named segments) replaces it through the same ETL job.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.spatial import Delaunay, cKDTree

from etl.demo.geography import Geography

ROAD_CLASSES = ("主干路", "次干路", "支路", "巷", "乡村道路")


@dataclass
class Street:
    """A named street: its segments in order along it."""

    name: str
    road_class: str
    segments: list[int] = field(default_factory=list)
    urban: bool = False
    old_town: bool = False


@dataclass
class Network:
    """Nodes and segments of the synthetic network, in metric coordinates."""

    nodes: list[np.ndarray] = field(default_factory=list)
    seg_from: list[int] = field(default_factory=list)
    seg_to: list[int] = field(default_factory=list)
    seg_coords: list[np.ndarray] = field(default_factory=list)
    seg_street: list[int] = field(default_factory=list)
    doors: list[tuple[int, int, int, int] | None] = field(default_factory=list)
    streets: list[Street] = field(default_factory=list)
    seg_township: np.ndarray | None = None
    seg_length: np.ndarray | None = None
    seg_id: list[str] = field(default_factory=list)

    def add_node(self, xy: np.ndarray) -> int:
        """Add a node and return its index."""
        self.nodes.append(np.asarray(xy, dtype=float))
        return len(self.nodes) - 1

    def add_street(self, name: str, road_class: str, urban: bool = False, old_town: bool = False) -> int:
        """Add a street (segments come later) and return its index."""
        self.streets.append(Street(name, road_class, urban=urban, old_town=old_town))
        return len(self.streets) - 1

    def add_segment(self, a: int, b: int, street: int, inner: np.ndarray | None = None) -> int:
        """Add a segment from node ``a`` to node ``b`` (optionally through ``inner`` points)."""
        parts = [self.nodes[a][None, :]]
        if inner is not None and len(inner):
            parts.append(inner)
        parts.append(self.nodes[b][None, :])
        self.seg_from.append(a)
        self.seg_to.append(b)
        self.seg_coords.append(np.vstack(parts))
        self.seg_street.append(street)
        self.doors.append(None)
        self.streets[street].segments.append(len(self.seg_coords) - 1)
        return len(self.seg_coords) - 1

    def node_array(self) -> np.ndarray:
        """All node positions as an (N, 2) array."""
        return np.vstack(self.nodes)


def _grid(
    net: Network,
    rng: np.random.Generator,
    origin: np.ndarray,
    angle: float,
    lines: list[tuple[str, float, float, float, str, str]],
    area,
    urban: bool,
    old_town_radius: float = 0.0,
) -> dict[tuple[float, float], int]:
    """Add a grid of named lines (orientation 'ns'/'ew', offset, start, end, name, class) around ``origin``."""
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    keys: dict[tuple[float, float], int] = {}

    def node(u: float, v: float) -> int:
        key = (round(u, 1), round(v, 1))
        if key not in keys:
            jitter = rng.normal(0, 6.0, 2)
            keys[key] = net.add_node(origin + rot @ np.array([u, v]) + jitter)
        return keys[key]

    for orient, offset, start, end, name, road_class in lines:
        cuts = {start, end}
        for o2, off2, s2, e2, _, _ in lines:
            if o2 != orient and start <= off2 <= end and s2 <= offset <= e2:
                cuts.add(off2)
        cuts = sorted(cuts)
        old = old_town_radius > 0 and abs(offset) < old_town_radius
        street = net.add_street(name, road_class, urban=urban, old_town=old)
        for c0, c1 in itertools.pairwise(cuts):
            if orient == "ns":
                a, b = node(offset, c0), node(offset, c1)
            else:
                a, b = node(c0, offset), node(c1, offset)
            mid = (net.nodes[a] + net.nodes[b]) / 2
            if area.contains(shapely.Point(mid)):
                net.add_segment(a, b, street)
    return keys


def _urban_lines(names: dict[str, tuple[str, ...]]) -> list[tuple[str, float, float, float, str, str]]:
    """The county town's grid lines, named in order from the demo config's street names."""
    lines = []
    mains = iter(names["main"])
    for u in (-2400, -1200, 0, 1200, 2400):
        lines.append(("ns", u, -2000, 2400, next(mains), "主干路"))
    for v in (-1800, -600, 600, 1800):
        lines.append(("ew", v, -2400, 3000, next(mains), "主干路"))
    secondary = iter(names["secondary"])
    for u in (-1800, -600, 600, 1800, 3000):
        lines.append(("ns", u, -2000, 2400, next(secondary), "次干路"))
    for v in (-1200, 0, 1200, 2400):
        lines.append(("ew", v, -2400, 3000, next(secondary), "次干路"))
    minor = iter(names["minor"])
    for u in (-1500, -900, -300, 300, 900, 1500, 2100):
        lines.append(("ns", u, -1200, 1200, next(minor), "支路"))
    for v in (-900, -300, 300, 900, 1500, -1500, 2100):
        lines.append(("ew", v, -1800, 1800 if abs(v) < 1200 else 2400, next(minor), "支路"))
    lanes = iter(names["lanes"])
    for u in (-450, -150, 150, 450):
        lines.append(("ns", u, -300, 300, next(lanes), "巷"))
    for v in (-150, 150, 450, -450):
        lines.append(("ew", v, -600, 600, next(lanes), "巷"))
    return lines


def _town_lines(short: str, big: bool) -> list[tuple[str, float, float, float, str, str]]:
    if big:
        return [
            ("ew", 0, -700, 700, f"{short}大街", "次干路"),
            ("ew", 250, -450, 450, f"{short}新街", "支路"),
            ("ew", -220, -400, 300, f"{short}老街", "巷"),
            ("ns", 0, -400, 500, f"{short}路", "次干路"),
            ("ns", -300, -250, 400, f"{short}西路", "支路"),
        ]
    return [
        ("ew", 0, -400, 400, f"{short}大街", "支路"),
        ("ns", 0, -250, 300, f"{short}路", "支路"),
    ]


def _wiggle(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, parts: int, amplitude: float) -> np.ndarray:
    """Points between ``a`` and ``b`` (exclusive) along a gently winding line."""
    t = np.linspace(0, 1, parts + 1)[1:-1]
    d = b - a
    normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
    phase = rng.uniform(0, np.pi)
    offset = amplitude * np.sin(np.pi * t * rng.integers(1, 3) + phase) * np.sin(np.pi * t)
    offset += rng.normal(0, amplitude * 0.15, len(t))
    return a + t[:, None] * d + offset[:, None] * normal


def build_network(geo: Geography, rng: np.random.Generator) -> Network:
    """The synthetic network: urban grid, town grids, roads linking township seats, village roads."""
    net = Network()
    config = geo.config
    urban = set(config.urban_townships)
    by_code = {t.code: t for t in geo.townships}
    urban_area = shapely.union_all([by_code[c].polygon for c in config.urban_townships])
    centre = by_code[config.old_town].seat + np.array(config.grid_offset_m)
    angle = np.deg2rad(config.grid_angle_deg)
    _grid(net, rng, centre, angle, _urban_lines(config.urban_streets), urban_area, True, old_town_radius=700)
    seat_node: dict[str, int] = {}
    urban_nodes = np.vstack(net.nodes)
    for town in geo.townships:
        if town.code in urban:
            seat_node[town.code] = int(np.argmin(((urban_nodes - town.seat) ** 2).sum(axis=1)))
            continue
        angle = np.deg2rad(rng.uniform(-25, 25))
        keys = _grid(net, rng, town.seat, angle, _town_lines(town.short, town.kind == "镇"), town.polygon, False)
        seat_node[town.code] = keys[(0.0, 0.0)]

    # roads between township seats: Delaunay edges up to 16 km, inside the county
    codes = [t.code for t in geo.townships]
    seats = np.vstack([net.nodes[seat_node[c]] for c in codes])
    tri = Delaunay(seats)
    edges = set()
    for simplex in tri.simplices:
        for i in range(3):
            a, b = sorted((int(simplex[i]), int(simplex[(i + 1) % 3])))
            edges.add((a, b))
    used_names: set[str] = set()
    for a, b in sorted(edges):
        ta, tb = geo.townships[a], geo.townships[b]
        if ta.code in urban and tb.code in urban:
            continue
        length = float(np.hypot(*(seats[b] - seats[a])))
        if length > 16000:
            continue
        line = shapely.LineString(seats[[a, b]])
        if geo.outline.intersection(line).length < 0.97 * line.length:
            continue
        # named from both ends' first characters; the county town by the county's (武柳线)
        first = lambda t: geo.region.short_name[0] if t.code in urban else t.short[0]  # noqa: E731
        name = f"{first(ta)}{first(tb)}线"
        if name in used_names:
            name = f"{ta.short[:2]}{tb.short[:2]}线"
        used_names.add(name)
        parts = max(2, int(length // 1500))
        inner = _wiggle(seats[a], seats[b], rng, parts, min(600.0, length * 0.05))
        street = net.add_street(name, "主干路")
        previous = seat_node[ta.code]
        for point in inner:
            current = net.add_node(point)
            net.add_segment(previous, current, street)
            previous = current
        net.add_segment(previous, seat_node[tb.code], street)

    # village roads from the nearest node of the network to each village seat
    nodes = net.node_array()
    tree = cKDTree(nodes)
    for village in geo.villages:
        dist, nearest = tree.query(village.seat)
        if dist < 120:
            continue
        if village.name.endswith("社区") and dist < 400:
            continue
        street = net.add_street(f"{village.short}村道", "乡村道路")
        end = net.add_node(village.seat)
        a = nodes[nearest]
        bend = _wiggle(a, village.seat, rng, 3, min(150.0, dist * 0.1))
        net.add_segment(int(nearest), end, street, bend)
        # a lane through the village beyond its seat
        direction = village.seat - a
        direction = direction / (np.hypot(*direction) + 1e-9)
        tip = net.add_node(village.seat + direction * rng.uniform(200, 400) + rng.normal(0, 40, 2))
        net.add_segment(end, tip, street)

    _finish(net, geo)
    return net


def _finish(net: Network, geo: Geography) -> None:
    """Township, length, ids and door-number ranges (odd left, even right) of every segment."""
    mids = np.vstack([c[len(c) // 2 - 1 : len(c) // 2 + 1].mean(axis=0) for c in net.seg_coords])
    town = geo.township_of(mids[:, 0], mids[:, 1])
    # midpoints in a gap of the outline (rare): take the nearest seat's township
    seats = np.vstack([t.seat for t in geo.townships])
    for i in np.flatnonzero(town < 0):
        town[i] = int(np.argmin(((seats - mids[i]) ** 2).sum(axis=1)))
    net.seg_township = town
    net.seg_length = np.array([float(np.hypot(*np.diff(c, axis=0).T).sum()) for c in net.seg_coords])
    net.seg_id = [f"S{i + 1:05d}" for i in range(len(net.seg_coords))]
    for street in net.streets:
        if street.road_class == "乡村道路" or (street.road_class == "主干路" and not street.urban):
            continue
        position = 0.0
        for s in street.segments:
            d0, d1 = position, position + net.seg_length[s]
            n0, n1 = int(d0 // 12), max(int(d0 // 12) + 1, int(d1 // 12))
            net.doors[s] = (2 * n0 + 1, 2 * n1 - 1, 2 * n0 + 2, 2 * n1)
            position = d1
