"""Named places of the demo (小区, 市场, 学校, 医院, 工地 …): synthetic points beside the synthetic streets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.demo.geography import Geography
from etl.demo.streets import Network

COMPOUND_WORDS = list("阳光锦绣金色翠苑温泉名城湖畔江南明珠丽景华府御景君悦紫荆桂园和家碧水东方")
COMPOUND_SUFFIX = ["小区", "花园", "苑", "家园", "公寓", "新村", "府"]


@dataclass
class Places:
    """Named places: position (metric), name, kind, hotness, segment and door number of the address."""

    xy: np.ndarray
    name: list[str]
    kind: list[str]
    hot: np.ndarray
    segment: np.ndarray
    door: np.ndarray
    township: np.ndarray
    address: list[str]
    place_id: list[str]


def _beside(net: Network, rng: np.random.Generator, s: int) -> tuple[np.ndarray, int]:
    """A point 25–60 m beside segment ``s`` and the door number it would have."""
    coords = net.seg_coords[s]
    t = rng.uniform(0.15, 0.85)
    a, b = coords[0], coords[-1]
    d = b - a
    normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
    left = rng.random() < 0.5
    point = a + t * d + normal * rng.uniform(25, 60) * (1 if left else -1)
    doors = net.doors[s]
    if doors is None:
        return point, -1
    lo, hi = (doors[0], doors[1]) if left else (doors[2], doors[3])
    number = lo + 2 * round(t * (hi - lo) / 2)
    return point, int(number)


def build_places(geo: Geography, net: Network, rng: np.random.Generator) -> Places:
    """About 250 named places: urban landmarks and compounds, and each town's market, school, clinic, sites."""
    streets = net.streets
    urban_segs = [s for s, st in enumerate(net.seg_street) if streets[st].urban and net.doors[s] is not None]
    old = [s for s in urban_segs if streets[net.seg_street[s]].old_town]
    rows: list[tuple[str, str, float, int]] = []
    for spec in geo.config.urban_places:
        pool = urban_segs
        if spec.old_town:
            pool = old
        elif spec.township is not None:  # e.g. a place named after a subdistrict lies in it
            pool = [s for s in urban_segs if net.seg_township[s] == geo.township_index[spec.township]]
        rows.append((spec.name, spec.kind, spec.hot, int(rng.choice(pool))))
    used = {r[0] for r in rows}
    for _ in range(70):
        for _ in range(20):
            name = "".join(rng.choice(COMPOUND_WORDS, 2)) + str(rng.choice(COMPOUND_SUFFIX))
            if name not in used:
                break
        used.add(name)
        rows.append((name, "小区", float(rng.lognormal(0, 0.4)), int(rng.choice(urban_segs))))
    for i in range(14):
        rows.append(
            (
                f"城区{'一二三四五六七八九十'[i % 10]}{'号' if i < 10 else '期'}地块项目工地",
                "工地",
                2.0,
                int(rng.choice(urban_segs)),
            )
        )
    for town in geo.townships:
        if town.code in geo.config.urban_townships:
            continue
        mine = [
            s
            for s, st in enumerate(net.seg_street)
            if net.doors[s] is not None
            and net.seg_township[s] == geo.township_index[town.code]
            and not streets[st].urban
        ]
        if not mine:
            continue
        big = town.kind == "镇"
        rows.append((f"{town.short}农贸市场", "市场", 1.5 if big else 0.7, int(rng.choice(mine))))
        rows.append((f"{town.short}中心小学", "学校", 1.0 if big else 0.5, int(rng.choice(mine))))
        rows.append((f"{town.short}{'卫生院' if big else '卫生室'}", "医院", 0.6, int(rng.choice(mine))))
        if big:
            rows.append((f"{town.short}初级中学", "学校", 0.8, int(rng.choice(mine))))
            for k in range(2):
                rows.append((f"{town.short}{'新区' if k else '工业园'}项目工地", "工地", 1.2, int(rng.choice(mine))))
            for k in range(3):
                rows.append((f"{town.short}{['新村', '花苑', '家园'][k]}", "小区", 0.6, int(rng.choice(mine))))
    n = len(rows)
    xy = np.zeros((n, 2))
    door = np.zeros(n, dtype=int)
    for i, (_, _, _, s) in enumerate(rows):
        xy[i], door[i] = _beside(net, rng, s)
    segment = np.array([r[3] for r in rows])
    township = geo.township_of(xy[:, 0], xy[:, 1])
    township = np.where(township < 0, net.seg_township[segment], township)
    address = [
        f"{streets[net.seg_street[s]].name}{d}号" if d > 0 else streets[net.seg_street[s]].name
        for s, d in zip(segment, door, strict=True)
    ]
    return Places(
        xy=xy,
        name=[r[0] for r in rows],
        kind=[r[1] for r in rows],
        hot=np.array([r[2] for r in rows]),
        segment=segment,
        door=door,
        township=township,
        address=address,
        place_id=[f"P{i + 1:04d}" for i in range(n)],
    )
