"""The street-chief (街路长) roster: who is responsible for which streets, and how keenly each is patrolled."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.demo import people
from etl.demo.geography import Geography
from etl.demo.streets import Network


@dataclass
class Chief:
    """One street chief with their streets and the segments of those streets inside their squad."""

    code: str
    name: str
    phone: str
    squad: int
    role: str
    streets: list[int]
    segments: list[int]
    weights: list[float]  # relative patrol frequency per segment; a few streets are neglected
    mode: str  # 步行 / 电动车 / 汽车


def build_chiefs(geo: Geography, net: Network, rng: np.random.Generator, scale: float) -> list[Chief]:
    """The demo config's ``chiefs`` × ``scale`` chiefs (at least one per squad), sharing out each squad's streets."""
    squad_of_town = geo.squad_of_township()
    seg_squad = squad_of_town[net.seg_township]
    per_squad_streets: list[list[int]] = []
    for q in range(len(geo.squads)):
        mine = sorted({net.seg_street[s] for s in np.flatnonzero(seg_squad == q)})
        per_squad_streets.append(mine)
    load = np.array([sum(net.seg_length[np.flatnonzero(seg_squad == q)]) ** 0.5 for q in range(len(geo.squads))])
    urban_bonus = np.array([2.5 if squad.urban else 1.0 for squad in geo.squads])
    share = load * urban_bonus
    total = max(len(geo.squads), round(geo.config.chiefs * scale))
    counts = np.maximum(1, np.floor(share / share.sum() * total).astype(int))
    while counts.sum() < total:
        counts[int(np.argmax(share / counts))] += 1
    names = people.names(rng, int(counts.sum()))
    phones = people.mobiles(rng, int(counts.sum()))
    neglect = rng.random(len(net.streets)) < 0.2
    street_weight = np.where(neglect, 0.04, rng.lognormal(0, 0.5, len(net.streets)))
    chiefs: list[Chief] = []
    k = 0
    for q, squad in enumerate(geo.squads):
        streets = sorted(per_squad_streets[q], key=lambda s: (-len(net.streets[s].segments), s))
        for j in range(counts[q]):
            if counts[q] <= len(streets):
                mine = streets[j :: counts[q]]
            else:  # more chiefs than streets: neighbouring chiefs share a street
                mine = [streets[j % len(streets)], streets[(j + 1) % len(streets)]][: min(2, len(streets))]
            segments = [s for st in mine for s in net.streets[st].segments if seg_squad[s] == q]
            first = net.streets[mine[0]].name
            role = "巷长" if first.endswith("巷") else "街长" if first.endswith("街") else "路长"
            urban = squad.urban
            mode = "步行" if urban and rng.random() < 0.5 else "电动车" if urban or rng.random() < 0.6 else "汽车"
            chiefs.append(
                Chief(
                    code=f"JLZ{squad.code[2:]}{j + 1:03d}",
                    name=names[k],
                    phone=phones[k],
                    squad=q,
                    role=role,
                    streets=list(mine),
                    segments=segments,
                    weights=[float(street_weight[net.seg_street[s]]) for s in segments],
                    mode=mode,
                )
            )
            k += 1
    return chiefs
