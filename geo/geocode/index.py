"""The in-memory gazetteer index the matcher works on: names → areas, road segments, places."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
import shapely.prepared
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from geo.geocode.gazetteer import Entry, read_entries
from geo.geocode.normalize import RegionNames
from geo.geocode.parse import Lexicon
from geo.region import Region

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0


@dataclass
class Area:
    """A township or village: code, official name, parent township, point (lon, lat) if known."""

    code: str
    name: str
    township_code: str | None
    point: tuple[float, float] | None
    approximate: bool = False


@dataclass
class Segment:
    """A named street segment with its door-number ranges and local metric coordinates."""

    id: int | None
    key: str
    name: str
    township_code: str | None
    left: tuple[int, int] | None
    right: tuple[int, int] | None
    lonlat: np.ndarray
    xy: np.ndarray
    cum: np.ndarray
    line: LineString
    xy_list: list[tuple[float, float]] = field(default_factory=list)
    cum_list: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.xy_list = [(float(x), float(y)) for x, y in self.xy]
        self.cum_list = [float(c) for c in self.cum]

    @property
    def length(self) -> float:
        """Length in metres."""
        return float(self.cum[-1])


@dataclass
class PlaceRecord:
    """A named place (compound, market, school …) with its point."""

    key: str
    name: str
    kind: str | None
    township_code: str | None
    village_code: str | None
    point: tuple[float, float]
    label: str | None = None  # for an address point: the place whose address it is


def _range(value: object) -> tuple[int, int] | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    if value[0] is None or value[1] is None:
        return None
    return int(value[0]), int(value[1])


@dataclass
class GazetteerIndex:
    """Everything the matcher looks up, built once from the gazetteer entries (no SQL per address)."""

    names: RegionNames
    townships: dict[str, Area] = field(default_factory=dict)
    township_names: dict[str, str] = field(default_factory=dict)
    villages: dict[str, Area] = field(default_factory=dict)
    village_names: dict[str, list[str]] = field(default_factory=dict)
    roads: dict[str, list[Segment]] = field(default_factory=dict)
    road_names: dict[str, str] = field(default_factory=dict)
    roads_in_township: dict[str, set[str]] = field(default_factory=dict)
    places: dict[str, list[PlaceRecord]] = field(default_factory=dict)
    place_names_in_township: dict[str, set[str]] = field(default_factory=dict)
    address_points: dict[str, PlaceRecord] = field(default_factory=dict)
    door_points: dict[tuple[str, int], PlaceRecord] = field(default_factory=dict)
    township_polygons: list[tuple[str, BaseGeometry]] = field(default_factory=list)
    approximate_polygons: set[str] = field(default_factory=set)  # townships whose polygon is approximate
    county: BaseGeometry | None = None
    lexicon: Lexicon = field(default_factory=Lexicon)
    origin: tuple[float, float] = (0.0, 0.0)
    _prepared_county: object = None
    _township_tree: shapely.STRtree | None = None

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def from_entries(cls, entries: Iterable[Entry], region: Region) -> GazetteerIndex:
        """Build the index from gazetteer entries (from the table, or made up in tests and benches)."""
        entries = list(entries)
        index = cls(names=RegionNames.from_region(region))
        index.origin = index._origin(entries)
        by_ref: dict[tuple[str, str], list[Entry]] = {}
        for entry in entries:
            by_ref.setdefault((entry.kind, entry.ref_key), []).append(entry)
        for (kind, _ref), group in by_ref.items():
            getattr(index, f"_add_{kind}")(group)
        for kind, table in (("township", index.township_names), ("village", index.village_names)):
            index.lexicon.add(kind, table)
        index.lexicon.add("road", index.road_names)
        index.lexicon.add("place", index.places)
        if index.county is not None:
            index._prepared_county = shapely.prepared.prep(index.county)
        if index.township_polygons:
            index._township_tree = shapely.STRtree([p for _, p in index.township_polygons])
        index._index_door_points()
        return index

    def _index_door_points(self) -> None:
        """Address points written as road + door number, keyed by (road, number) for the door step."""
        from geo.geocode.parse import parse

        for name, record in self.address_points.items():
            parsed = parse(name, self.lexicon)
            if parsed.road_known and parsed.door is not None:
                self.door_points.setdefault((self.road_names[parsed.road], parsed.door), record)

    @classmethod
    def from_connection(cls, conn: Connection, region: Region) -> GazetteerIndex:
        """Build the index from the ``gazetteer`` table (one query)."""
        return cls.from_entries(read_entries(conn), region)

    def _origin(self, entries: list[Entry]) -> tuple[float, float]:
        points = [e.geom.centroid for e in entries if e.geom is not None and not e.geom.is_empty]
        if not points:
            return 0.0, 0.0
        return float(np.mean([p.x for p in points])), float(np.mean([p.y for p in points]))

    def _add_county(self, group: list[Entry]) -> None:
        if group[0].geom is not None:
            self.county = group[0].geom

    def _add_township(self, group: list[Entry]) -> None:
        first = group[0]
        point = (first.geom.x, first.geom.y) if first.geom is not None and not first.geom.is_empty else None
        self.townships[first.ref_key] = Area(
            first.ref_key, first.canonical, first.ref_key, point, bool(first.attrs.get("approximate"))
        )
        if first.attrs.get("polygon"):
            self.township_polygons.append((first.ref_key, shapely.from_wkb(bytes.fromhex(first.attrs["polygon"]))))
            if first.attrs.get("polygon_approximate"):
                self.approximate_polygons.add(first.ref_key)
        for entry in group:
            self.township_names.setdefault(entry.name, first.ref_key)

    def _add_village(self, group: list[Entry]) -> None:
        first = group[0]
        point = (first.geom.x, first.geom.y) if first.geom is not None and not first.geom.is_empty else None
        self.villages[first.ref_key] = Area(
            first.ref_key, first.canonical, first.township_code, point, bool(first.attrs.get("approximate"))
        )
        for entry in group:
            codes = self.village_names.setdefault(entry.name, [])
            if first.ref_key not in codes:
                codes.append(first.ref_key)

    def _add_street(self, group: list[Entry]) -> None:
        first = group[0]
        if first.geom is None or first.geom.is_empty:
            return
        line = first.geom if isinstance(first.geom, LineString) else shapely.line_merge(first.geom)
        if not isinstance(line, LineString):
            line = max(line.geoms, key=lambda g: g.length)
        lonlat = np.asarray(line.coords)[:, :2]
        xy = self.to_xy(lonlat)
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        segment = Segment(
            id=first.attrs.get("segment_id"),
            key=first.ref_key,
            name=first.canonical,
            township_code=first.township_code,
            left=_range(first.attrs.get("left")),
            right=_range(first.attrs.get("right")),
            lonlat=lonlat,
            xy=xy,
            cum=cum,
            line=line,
        )
        canonical = first.name
        self.roads.setdefault(canonical, []).append(segment)
        for entry in group:
            self.road_names.setdefault(entry.name, canonical)
        if first.township_code:
            self.roads_in_township.setdefault(first.township_code, set()).add(canonical)

    @staticmethod
    def _point_record(first: Entry, kind: str | None, village: str | None, label: str | None) -> PlaceRecord | None:
        if first.geom is None or first.geom.is_empty:
            return None
        point = first.geom.centroid
        return PlaceRecord(
            first.ref_key, first.canonical, kind, first.township_code, village, (point.x, point.y), label
        )

    def _add_place(self, group: list[Entry]) -> None:
        first = group[0]
        record = self._point_record(first, first.attrs.get("kind"), first.village_code, None)
        if record is None:
            return
        forms = [e.name for e in group]
        # Also the name without the region prefix, as addresses come after strip_region
        # (武义县第一人民医院 → 第一人民医院).
        for form in list(forms):
            for prefix in (*self.names.counties[:1], *self.names.cities[:1]):
                if form.startswith(prefix) and len(form) - len(prefix) >= 2:
                    forms.append(form[len(prefix) :])
        for form in dict.fromkeys(forms):
            self.places.setdefault(form, []).append(record)
            if first.township_code:
                self.place_names_in_township.setdefault(first.township_code, set()).add(form)

    def _add_address_point(self, group: list[Entry]) -> None:
        record = self._point_record(group[0], None, None, group[0].attrs.get("place"))
        if record is None:
            return
        for entry in group:
            self.address_points.setdefault(entry.name, record)

    # -- geometry helpers -------------------------------------------------------------------
    def to_xy(self, lonlat: np.ndarray) -> np.ndarray:
        """Local metric coordinates (equirectangular about the index origin; < 0.5% error in a county)."""
        lon0, lat0 = self.origin
        kx = _M_PER_DEG_LON_EQ * math.cos(math.radians(lat0))
        return np.column_stack([(lonlat[:, 0] - lon0) * kx, (lonlat[:, 1] - lat0) * _M_PER_DEG_LAT])

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        """Inverse of :meth:`to_xy` for one point."""
        lon0, lat0 = self.origin
        kx = _M_PER_DEG_LON_EQ * math.cos(math.radians(lat0))
        return lon0 + x / kx, lat0 + y / _M_PER_DEG_LAT

    def distance_m(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        """Distance in metres between two lon/lat points."""
        xy = self.to_xy(np.array([a, b], dtype=float))
        return float(np.hypot(*(xy[0] - xy[1])))

    def in_county(self, lon: float, lat: float) -> bool | None:
        """Whether a point lies in the county outline (None when no outline is loaded)."""
        if self._prepared_county is None:
            return None
        return bool(self._prepared_county.contains(Point(lon, lat)))

    def township_at(self, lon: float, lat: float) -> str | None:
        """Code of the township whose polygon holds the point, when township polygons are known."""
        if self._township_tree is None:
            return None
        hits = self._township_tree.query(Point(lon, lat), predicate="intersects")
        return self.township_polygons[int(hits[0])][0] if len(hits) else None

    def road_geometry(self, canonical: str, township: str | None) -> MultiLineString | None:
        """All segments of a road (within ``township`` when given) as one geometry."""
        segments = [s for s in self.roads.get(canonical, []) if township is None or s.township_code == township]
        if not segments:
            return None
        return MultiLineString([s.line for s in segments])

    @property
    def local_prefixes(self) -> frozenset[str]:
        """Township and village names an address may start with after the county or city name."""
        return frozenset(self.township_names) | frozenset(self.village_names)

    @property
    def local_names(self) -> frozenset[str]:
        """Road and place names an address may start with after the short county name."""
        return frozenset(self.road_names) | frozenset(self.places)
