"""Match a parsed address against the in-memory gazetteer, from the door number down to the township.

The admin areas an address names are resolved first (:mod:`geo.geocode.context`); road names,
door numbers on segments and road points come from :mod:`geo.geocode.roads`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from shapely.geometry import Point
from shapely.ops import nearest_points

from geo.geocode.context import MatchContext, admin_context
from geo.geocode.index import GazetteerIndex
from geo.geocode.normalize import Stripped, clean_text, is_meaningless, strip_region
from geo.geocode.online import TiandituGeocoder
from geo.geocode.parse import ROAD_SUFFIXES, ParsedAddress, parse
from geo.geocode.roads import ALIAS, EXACT, Roads

DOOR, CROSS, ROAD, PLACE, VILLAGE, TOWNSHIP, UNMATCHED = (
    "门牌",
    "交叉口",
    "道路",
    "小区或地点",
    "村社区",
    "乡镇",
    "未匹配",
)
CROSS_GAP_M = 150.0  # two roads that do not touch still meet if their nearest points are this close


@dataclass(frozen=True)
class GeocodeResult:
    """The answer for one address: point (WGS-84), level, score and what was matched, or why not."""

    input: str
    level: str
    lon: float | None = None
    lat: float | None = None
    score: float = 0.0
    township_code: str | None = None
    township: str | None = None
    village_code: str | None = None
    village: str | None = None
    matched: tuple[str, ...] = ()
    reason: str | None = None
    segment_id: int | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        """(lon, lat) or None."""
        return None if self.lon is None or self.lat is None else (self.lon, self.lat)

    def as_dict(self) -> dict[str, Any]:
        """The JSON object written by ``python -m etl geocode``."""
        return {
            "input": self.input,
            "lon": None if self.lon is None else round(self.lon, 7),
            "lat": None if self.lat is None else round(self.lat, 7),
            "level": self.level,
            "score": round(self.score, 3),
            "township": self.township,
            "township_code": self.township_code,
            "village": self.village,
            "matched": list(self.matched),
            "reason": self.reason,
        }


class Geocoder:
    """Offline geocoder over a :class:`GazetteerIndex`; results of repeated addresses are cached.

    Parameters
    ----------
    index
        The in-memory gazetteer.
    cache_size
        How many distinct addresses to remember (0 disables the cache, e.g. for timing).
    online
        An online geocoder asked only for in-county addresses nothing offline matched; its answer
        is used only when it lies inside the county.
    """

    def __init__(
        self, index: GazetteerIndex, cache_size: int = 100_000, online: TiandituGeocoder | None = None
    ) -> None:
        self.index = index
        self.online = online
        self.cache_size = cache_size
        self._cache: dict[str, GeocodeResult] = {}
        self._prefixes = index.local_prefixes
        self._names = index.local_names
        self.roads = Roads(index)
        self._all_places = list(index.places)

    def geocode(self, address: str | None) -> GeocodeResult:
        """Geocode one address (see :class:`GeocodeResult`)."""
        key = address or ""
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        result = self._geocode(key)
        if self.cache_size:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            self._cache[key] = result
        return result

    def geocode_many(self, addresses: list[str | None]) -> list[GeocodeResult]:
        """Geocode a batch."""
        return [self.geocode(a) for a in addresses]

    def lookup_key(self, address: str | None) -> str | None:
        """The form of ``address`` that address points are matched by (cleaned, county prefix stripped).

        None when the address says nothing, only names the county, or lies outside it: such a text
        cannot be taught to the geocoder as an address point.
        """
        cleaned = clean_text(address)
        if not cleaned or is_meaningless(cleaned, cleaned=True):
            return None
        stripped = self._strip(cleaned)
        return None if stripped.outside or not stripped.text else stripped.text

    def _strip(self, cleaned: str) -> Stripped:
        return strip_region(cleaned, self.index.names, self._prefixes, self._names)

    # -- the pipeline -----------------------------------------------------------------------
    def _geocode(self, address: str) -> GeocodeResult:
        if not address.strip():
            return GeocodeResult(address, UNMATCHED, reason="地址为空")
        cleaned = clean_text(address)
        if not cleaned or is_meaningless(cleaned, cleaned=True):
            return GeocodeResult(address, UNMATCHED, reason="地址无意义")
        stripped = self._strip(cleaned)
        if stripped.outside:
            return GeocodeResult(
                address, UNMATCHED, reason=f"地址不在{self.index.names.county_name}（{stripped.outside}）"
            )
        rest = stripped.text
        if not rest:
            return GeocodeResult(address, UNMATCHED, reason="只有县名，无法定位")
        point = self.index.address_points.get(rest)
        if point is not None:
            code = self.index.township_at(*point.point) or point.township_code
            township = self.index.townships.get(code or "")
            return GeocodeResult(
                address,
                DOOR,
                *point.point,
                EXACT,
                code,
                township.name if township else None,
                matched=tuple(n for n in (point.name, point.label) if n),
            )
        parsed = parse(rest, self.index.lexicon)
        ctx = admin_context(self.index, parsed)
        if ctx.outside:
            # A township this county does not have (东阳南马镇, 永康西城街道): its village is not
            # looked up in this county.
            county = self.index.names.county_name
            return GeocodeResult(address, UNMATCHED, reason=f"地址不在{county}（{county}无{ctx.outside}）")
        for step in (self._door, self._cross, self._place_exact, self._road, self._place_fuzzy, self._area):
            result = step(address, parsed, ctx)
            if result is not None:
                return result
        reason = "；".join(ctx.notes) or "未找到匹配的地名"
        if self.online is not None:
            found = self._ask_online(address, rest, ctx)
            if found is not None:
                return found
        return GeocodeResult(address, UNMATCHED, reason=reason, matched=tuple(ctx.matched))

    def _ask_online(self, address: str, rest: str, ctx: MatchContext) -> GeocodeResult | None:
        names = self.index.names
        hit = self.online.lookup(f"{names.provinces[0] if names.provinces else ''}{names.county_name}{rest}")
        if hit is None or not self.index.in_county(hit.lon, hit.lat):
            return None
        ctx.notes.append("天地图在线地理编码")
        return self._result(address, hit.level, (hit.lon, hit.lat), ctx, 0.8 * hit.score, matched=["天地图"])

    def _result(
        self, address: str, level: str, point: tuple[float, float], ctx: MatchContext, score: float, **extra: Any
    ) -> GeocodeResult:
        township = extra.pop("township", None) or ctx.township
        if level in (DOOR, CROSS, ROAD, PLACE):
            # The township the point lies in, when township polygons are known; but a township the
            # address names wins over an approximate polygon (a Voronoi guess near its border).
            found = self.index.township_at(*point)
            approximate = {found, ctx.township} & self.index.approximate_polygons
            if found and not (ctx.township and approximate):
                township = found
        village = ctx.village
        area = self.index.townships.get(township or "")
        varea = self.index.villages.get(village or "")
        return GeocodeResult(
            input=address,
            level=level,
            lon=float(point[0]),
            lat=float(point[1]),
            score=round(min(1.0, score * ctx.score), 4),
            township_code=township,
            township=area.name if area else None,
            village_code=village,
            village=varea.name if varea else None,
            matched=tuple(ctx.matched + extra.pop("matched", [])),
            reason="；".join(ctx.notes) or None,
            **extra,
        )

    def _door(self, address: str, parsed: ParsedAddress, ctx: MatchContext) -> GeocodeResult | None:
        if not parsed.road or parsed.door is None:
            return None
        road = self.roads.resolve(parsed.road, ctx.township)
        if road is None:
            return None
        canonical, name_score = road
        known = self.index.door_points.get((canonical, parsed.door))
        if known is not None and (ctx.township is None or known.township_code in (ctx.township, None)):
            return self._result(
                address,
                DOOR,
                known.point,
                ctx,
                name_score,
                township=known.township_code,
                matched=[f"{canonical}{parsed.door}号", *([known.label] if known.label else [])],
            )
        for segment in self.roads.segments(canonical, ctx.township):
            point = self.roads.door_point(segment, parsed.door)
            if point is not None:
                return self._result(
                    address,
                    DOOR,
                    point,
                    ctx,
                    name_score,
                    township=segment.township_code,
                    matched=[f"{segment.name}{parsed.door}号"],
                    segment_id=segment.id,
                )
        ctx.notes.append(f"{canonical}无{parsed.door}号门牌")
        return None

    def _anchor(self, ctx: MatchContext) -> tuple[float, float] | None:
        village = self.index.villages.get(ctx.village or "")
        return village.point if village is not None and not village.approximate else None

    def _road(self, address: str, parsed: ParsedAddress, ctx: MatchContext) -> GeocodeResult | None:
        if not parsed.road:
            return None
        road = self.roads.resolve(parsed.road, ctx.township)
        if road is None:
            return None
        canonical, name_score = road
        found = self.roads.middle(canonical, ctx.township)
        if found is None:
            return None
        point, segment, township = found
        anchor = self._anchor(ctx)
        if anchor is not None:
            # A road named with a village (武柳线XX村路段, XX村武柳线边): its nearest point to the village.
            point, segment = self.roads.nearest(canonical, ctx.township, anchor)
        if ctx.township is None and len({s.township_code for s in self.index.roads[canonical]}) > 1:
            area = self.index.townships.get(township or "")
            ctx.notes.append(f"{canonical}跨多个乡镇，取{area.name if area else '最长路段'}")
            name_score *= 0.8
        return self._result(
            address, ROAD, point, ctx, name_score, township=township, matched=[canonical], segment_id=segment.id
        )

    def _cross(self, address: str, parsed: ParsedAddress, ctx: MatchContext) -> GeocodeResult | None:
        if not parsed.cross:
            return None
        names = [self.roads.resolve(n, ctx.township) for n in parsed.cross]
        if None in names:
            # Intersections need both roads; fall back to the first one known.
            known = next((n for n in parsed.cross if self.roads.resolve(n, ctx.township)), None)
            parsed.road = known
            return None
        (a, score_a), (b, score_b) = names  # type: ignore[misc]
        ga = self.index.road_geometry(a, ctx.township) or self.index.road_geometry(a, None)
        gb = self.index.road_geometry(b, ctx.township) or self.index.road_geometry(b, None)
        if ga is None or gb is None:
            return None
        meet = ga.intersection(gb)
        points = [g for g in getattr(meet, "geoms", [meet]) if isinstance(g, Point) and not g.is_empty]
        if points:
            point = points[0]
        else:
            pa, pb = nearest_points(ga, gb)
            if self.index.distance_m((pa.x, pa.y), (pb.x, pb.y)) > CROSS_GAP_M:
                ctx.notes.append(f"{a}与{b}不相交")
                parsed.road = a
                return None
            point = Point((pa.x + pb.x) / 2, (pa.y + pb.y) / 2)
        segment = min(self.index.roads[a], key=lambda s: s.line.distance(point))
        township = ctx.township or segment.township_code
        return self._result(
            address,
            CROSS,
            (point.x, point.y),
            ctx,
            min(score_a, score_b),
            township=township,
            matched=[f"{a}与{b}交叉口"],
            segment_id=segment.id,
        )

    # -- places and areas -------------------------------------------------------------------
    def _place_candidates(self, name: str, ctx: MatchContext) -> list:
        records = self.index.places.get(name, [])
        if ctx.township:
            records = [r for r in records if r.township_code in (ctx.township, None)]
        if ctx.village and len(records) > 1:
            records = [r for r in records if r.village_code == ctx.village] or records
        return records

    def _place_result(self, address: str, record, ctx: MatchContext, score: float) -> GeocodeResult:
        return self._result(
            address,
            PLACE,
            record.point,
            ctx,
            score,
            township=record.township_code or ctx.township,
            matched=[record.name],
        )

    def _place_exact(self, address: str, parsed: ParsedAddress, ctx: MatchContext) -> GeocodeResult | None:
        text = parsed.place
        if text:
            records = self._place_candidates(text, ctx)
            if records:
                return self._place_result(address, records[0], ctx, EXACT if records[0].name == text else ALIAS)
        # A known place name inside the text (阳光小区北门, 城区1号地块项目工地), not the start of a road name.
        for where in (text, parsed.text):
            inner = self.index.lexicon.find_longest(where, {"place"}) if where else None
            if inner is None:
                continue
            _, name, start = inner
            follows = where[start + len(name) : start + len(name) + 2]
            if follows.startswith(ROAD_SUFFIXES) and follows != "路口":
                continue
            records = self._place_candidates(name, ctx)
            if records:
                return self._place_result(address, records[0], ctx, 0.9)
        return None

    def _place_fuzzy(self, address: str, parsed: ParsedAddress, ctx: MatchContext) -> GeocodeResult | None:
        text = parsed.place
        if not text or len(text) < 3:
            return None
        choices = list(self.index.place_names_in_township.get(ctx.township, ())) if ctx.township else self._all_places
        found = process.extractOne(text, choices, scorer=fuzz.ratio, score_cutoff=75)
        if not found or (found[1] < 80 and not (ctx.township and len(found[0]) == len(text))):
            return None
        records = self._place_candidates(found[0], ctx)
        if not records:
            return None
        return self._place_result(address, records[0], ctx, 0.9 * found[1] / 100)

    def _area(self, address: str, parsed: ParsedAddress, ctx: MatchContext) -> GeocodeResult | None:
        village = self.index.villages.get(ctx.village or "")
        if village is not None and village.point is not None:
            if village.approximate:
                ctx.notes.append(f"{village.name}位置为近似")
            return self._result(address, VILLAGE, village.point, ctx, 0.9 if village.approximate else 1.0)
        township = self.index.townships.get(ctx.township or "")
        if township is not None and township.point is not None:
            if village is not None:
                ctx.notes.append(f"{village.name}无位置，取乡镇")
            return self._result(address, TOWNSHIP, township.point, ctx, 0.8 if township.approximate else 1.0)
        return None


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lon, lat) points (haversine)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))
