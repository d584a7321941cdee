"""Sanitation sweeping routes (清扫路线): connected walks over the synthetic streets, with vehicle and crew."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.demo.geography import Geography
from etl.demo.streets import Network

PLATE_LETTERS = "ABCDEFGHJK"


@dataclass
class Route:
    """One sweeping route: its segments in driving order, the polyline, vehicle, crew and schedule."""

    code: str
    name: str
    squad: int
    segments: list[int]
    line: np.ndarray  # (n, 2) metric, in driving order
    vehicle: str
    crew: str
    shifts: list[tuple[str, str]]
    cuts: list[int]  # index in ``line`` where each segment of the walk starts, and the last vertex


def _walk(
    net: Network, rng: np.random.Generator, start: int, allowed: np.ndarray, target_m: float
) -> list[tuple[int, bool]]:
    """A walk over allowed segments from ``start``, preferring segments not yet swept; (segment, reversed)."""
    incident: dict[int, list[int]] = {}
    for s in np.flatnonzero(allowed):
        incident.setdefault(net.seg_from[s], []).append(int(s))
        incident.setdefault(net.seg_to[s], []).append(int(s))
    walk = [(start, False)]
    seen = {start}
    node = net.seg_to[start]
    length = net.seg_length[start]
    while length < target_m:
        options = incident.get(node, [])
        fresh = [s for s in options if s not in seen]
        pool = fresh or options
        if not pool:
            break
        s = int(pool[int(rng.integers(0, len(pool)))])
        backwards = net.seg_to[s] == node
        walk.append((s, bool(backwards)))
        seen.add(s)
        node = net.seg_from[s] if backwards else net.seg_to[s]
        length += net.seg_length[s]
    return walk


def build_routes(geo: Geography, net: Network, rng: np.random.Generator) -> list[Route]:
    """Each squad's ``sweeping_routes`` routes over its named streets (Wuyi: 8 urban, one per town, 18 in all)."""
    squad_of_town = geo.squad_of_township()
    seg_squad = squad_of_town[net.seg_township]
    named = np.array([d is not None for d in net.doors])
    routes: list[Route] = []
    plan = [(q, squad.sweeping_routes) for q, squad in enumerate(geo.squads)]
    numerals = "一二三四五六七八九十"
    for q, count in plan:
        allowed = named & (seg_squad == q)
        candidates = np.flatnonzero(allowed)
        if not len(candidates):
            continue
        urban = geo.squads[q].urban
        for j in range(count):
            start = int(rng.choice(candidates))
            walk = _walk(net, rng, start, allowed, rng.uniform(5000, 9000) if urban else rng.uniform(2000, 3500))
            parts = []
            cuts = [0]
            for s, backwards in walk:
                coords = net.seg_coords[s][::-1] if backwards else net.seg_coords[s]
                parts.append(coords if not parts else coords[1:])
                cuts.append(cuts[-1] + len(coords) - 1)
            squad = geo.squads[q]
            short = squad.name[:-2]
            letter = PLATE_LETTERS[int(rng.integers(0, len(PLATE_LETTERS)))]
            plate = f"{geo.config.plate_prefix}{letter}{int(rng.integers(1000, 9999))}"
            morning = ("05:00", "07:30") if urban else ("05:30", "07:30")
            afternoon = ("14:00", "16:00")
            routes.append(
                Route(
                    code=f"QS{len(routes) + 1:02d}",
                    name=f"{short}{numerals[j]}号清扫线",
                    squad=q,
                    segments=[s for s, _ in walk],
                    line=np.vstack(parts),
                    vehicle=plate,
                    crew=f"{short}环卫{numerals[j]}组",
                    shifts=[morning, afternoon] if urban else [morning],
                    cuts=cuts,
                )
            )
    return routes
