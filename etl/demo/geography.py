"""Demo geography: townships, the squads and their jurisdictions and stations, in metric coordinates.

The squads and the county town come from the region's demo config (``etl/demo/config.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from etl.demo.config import DemoConfig, load_demo_config
from geo.admin_names import admin_aliases, display_name
from geo.crs import from_wgs84, to_wgs84, transform_geometry
from geo.region import Region
from geo.township_geometry import township_geometry


@dataclass
class Township:
    """One township with its approximate polygon and seat, in metric coordinates."""

    code: str
    name: str
    short: str
    kind: str
    polygon: BaseGeometry
    seat: np.ndarray
    squad: str


@dataclass
class Squad:
    """One squad with its townships, jurisdiction polygon and station (metric)."""

    code: str
    name: str
    townships: list[str]
    polygon: BaseGeometry
    station: np.ndarray
    officers: int
    delay_min: float
    speed_kmh: float
    urban: bool = False  # all its townships lie in the county town
    sweeping_routes: int = 1
    address: str = ""
    phone: str = ""


@dataclass
class Village:
    """A village / community with its seat (metric)."""

    code: str
    name: str
    short: str
    township: str
    seat: np.ndarray
    approximate: bool


@dataclass
class Geography:
    """Everything spatial the generator starts from (metric CRS of the region)."""

    region: Region
    config: DemoConfig
    outline: BaseGeometry
    townships: list[Township]
    villages: list[Village]
    squads: list[Squad]
    township_index: dict[str, int] = field(default_factory=dict)

    def to_wgs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metric coordinates to WGS-84 lon/lat."""
        return to_wgs84(x, y, self.region.metric_crs)

    def to_metric(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 lon/lat to metric coordinates."""
        return from_wgs84(lon, lat, self.region.metric_crs)

    def township_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index into ``townships`` of the township containing each point (-1 outside the county)."""
        out = np.full(len(x), -1, dtype=int)
        for i, town in enumerate(self.townships):
            todo = out < 0
            if not todo.any():
                break
            hit = shapely.contains_xy(town.polygon, x[todo], y[todo])
            idx = np.flatnonzero(todo)[hit]
            out[idx] = i
        return out

    def squad_of_township(self) -> np.ndarray:
        """Squad index of each township index."""
        codes = [s.code for s in self.squads]
        return np.array([codes.index(t.squad) for t in self.townships])


def short_name(name: str) -> str:
    """The shortest alias people write (柳城畲族镇 → 柳城, 白洋街道 → 白洋, 端村 → 端村)."""
    aliases = admin_aliases(name, "township")
    return aliases[-1]


def build_geography(region: Region, config: DemoConfig | None = None) -> Geography:
    """Townships, villages and squads of the region, from its config and its demo config.

    Township polygons are derived when the region gives none; ``config`` defaults to the
    ``demo.toml`` beside the region config. Raises :class:`geo.errors.ValidationError` when the
    demo's squads do not tile the region's townships.
    """
    config = config or load_demo_config(region)
    geometry = township_geometry(region)
    config.check_townships(list(geometry.townships["code"]), region.expected_squads)
    crs = region.metric_crs
    squad_of = config.squad_of_township()
    townships = []
    for row in geometry.townships.itertuples():
        polygon = transform_geometry(row.polygon, crs, inverse=True)
        seat = shapely.get_coordinates(transform_geometry(row.seat, crs, inverse=True))[0]
        kind = "街道" if row.name.endswith("街道") else "镇" if row.name.endswith("镇") else "乡"
        townships.append(Township(row.code, row.name, short_name(row.name), kind, polygon, seat, squad_of[row.code]))
    villages = []
    for row in geometry.villages.itertuples():
        seat = shapely.get_coordinates(transform_geometry(row.seat, crs, inverse=True))[0]
        shown = display_name(row.name, "village")
        short = min((a for a in admin_aliases(row.name, "village") if "委" not in a), key=len)
        villages.append(Village(row.code, shown, short, row.township, seat, row.approximate))
    by_code = {t.code: t for t in townships}
    squads = []
    for i, spec in enumerate(config.squads):
        codes = list(spec.townships)
        polygon = shapely.union_all([by_code[c].polygon for c in codes])
        seat = by_code[codes[0]].seat
        # the station: a building ~150 m from the first township's seat, inside the jurisdiction
        angle = (i * 2.399) % (2 * np.pi)
        station = seat + 150.0 * np.array([np.cos(angle), np.sin(angle)])
        if not polygon.contains(Point(station)):
            station = seat
        squads.append(
            Squad(
                spec.code,
                spec.name,
                codes,
                polygon,
                station,
                spec.officers,
                spec.delay_min,
                spec.speed_kmh,
                urban=config.is_urban(spec),
                sweeping_routes=spec.sweeping_routes,
            )
        )
    outline = transform_geometry(region.outline, crs, inverse=True)
    geo = Geography(region, config, outline, townships, villages, squads)
    geo.township_index = {t.code: i for i, t in enumerate(townships)}
    return geo
