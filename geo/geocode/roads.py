"""Roads of the gazetteer as the geocoder uses them: a written name → the canonical road, its segments,
the point of a door number on them, the middle of a road, the point of a road nearest to a place."""

from __future__ import annotations

import bisect

import shapely
from rapidfuzz import fuzz, process
from shapely.geometry import LineString, Point

from geo.geocode.index import GazetteerIndex, Segment

EXACT, ALIAS = 1.0, 0.95  # name scores of a road written as its name / as one of its aliases
SIDE_OFFSET_M = 5.0  # door points sit this far off the centre line, on their side
NEIGHBOUR_SEGMENT_M = 3000.0  # a road's segments in the next township still count when this close

RoadPoint = tuple[tuple[float, float], Segment, str | None]  # (lon, lat), the nearest segment, its township


class Roads:
    """Road look-ups over a :class:`GazetteerIndex`, with the per-(road, township) answers cached."""

    def __init__(self, index: GazetteerIndex) -> None:
        self.index = index
        self._names = list(index.road_names)
        self._segments: dict[tuple[str, str | None], list[Segment]] = {}
        self._middles: dict[tuple[str, str | None], RoadPoint | None] = {}

    def resolve(self, name: str, township: str | None) -> tuple[str, float] | None:
        """The canonical road a written road name stands for (within ``township``), and a name score."""
        index = self.index
        canonical = index.road_names.get(name)
        in_township = index.roads_in_township.get(township, set()) if township else None
        if canonical and (in_township is None or canonical in in_township):
            return canonical, EXACT if canonical == name else ALIAS
        choices = [n for n in self._names if in_township is None or index.road_names[n] in in_township]
        found = process.extract(name, choices, scorer=fuzz.ratio, score_cutoff=60, limit=3)
        if not found:
            return None
        best, score, _ = found[0]
        rivals = [f for f in found[1:] if f[1] == score and index.road_names[f[0]] != index.road_names[best]]
        if rivals or _different_road(name, best):
            return None
        same_length = len(best) == len(name)
        if not ((same_length and score >= 66) or (abs(len(best) - len(name)) == 1 and score >= 85)):
            return None
        return index.road_names[best], 0.9 * score / 100

    def segments(self, canonical: str, township: str | None) -> list[Segment]:
        """Segments of a road: those in ``township`` first, then nearby ones of the same road."""
        key = (canonical, township)
        cached = self._segments.get(key)
        if cached is not None:
            return cached
        segments = self.index.roads.get(canonical, [])
        if township is not None:
            inside = [s for s in segments if s.township_code == township]
            others = [s for s in segments if s.township_code != township]
            if inside and others:
                near = shapely.MultiLineString([s.line for s in inside])
                inside += [s for s in others if near.distance(s.line) < NEIGHBOUR_SEGMENT_M / 111_000]
            segments = inside
        self._segments[key] = segments
        return segments

    def door_point(self, segment: Segment, door: int) -> tuple[float, float] | None:
        """The point of door number ``door`` on ``segment``, on the side whose range holds it."""
        for side, bounds in ((1.0, segment.left), (-1.0, segment.right)):
            if bounds is None:
                continue
            start, end = bounds
            if not min(start, end) <= door <= max(start, end):
                continue
            if start % 2 == end % 2 and door % 2 != start % 2:
                continue  # wrong side of the street: odd and even numbers face each other
            fraction = 0.5 if start == end else (door - start) / (end - start)
            return self._along(segment, fraction, side * SIDE_OFFSET_M)
        return None

    def _along(self, segment: Segment, fraction: float, offset: float) -> tuple[float, float]:
        cum = segment.cum_list
        distance = fraction * cum[-1]
        i = min(max(bisect.bisect_right(cum, distance) - 1, 0), len(cum) - 2)
        step = cum[i + 1] - cum[i]
        t = 0.0 if step == 0 else (distance - cum[i]) / step
        (x0, y0), (x1, y1) = segment.xy_list[i], segment.xy_list[i + 1]
        x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        if step > 0 and offset:
            # Left of the digitising direction is the direction rotated +90 degrees.
            x += -(y1 - y0) / step * offset
            y += (x1 - x0) / step * offset
        return self.index.to_lonlat(x, y)

    def middle(self, canonical: str, township: str | None) -> RoadPoint | None:
        """The middle of a road within ``township`` (or of its longest stretch), cached."""
        key = (canonical, township)
        if key in self._middles:
            return self._middles[key]
        segments = [s for s in self.index.roads.get(canonical, []) if township is None or s.township_code == township]
        answer = None
        if segments:
            if township is None:
                lengths: dict[str | None, float] = {}
                for s in segments:
                    lengths[s.township_code] = lengths.get(s.township_code, 0.0) + s.length
                township = max(lengths, key=lambda k: lengths[k])
                segments = [s for s in segments if s.township_code == township]
            merged = shapely.line_merge(shapely.MultiLineString([s.line for s in segments]))
            parts = [merged] if isinstance(merged, LineString) else list(merged.geoms)
            longest = max(parts, key=lambda g: g.length)
            middle = longest.interpolate(0.5, normalized=True)
            nearest = min(segments, key=lambda s: s.line.distance(middle))
            answer = ((middle.x, middle.y), nearest, township)
        self._middles[key] = answer
        return answer

    def nearest(
        self, canonical: str, township: str | None, anchor: tuple[float, float]
    ) -> tuple[tuple[float, float], Segment]:
        """The point of a road (within ``township``) nearest to ``anchor``, and its segment."""
        segments = [s for s in self.index.roads[canonical] if township is None or s.township_code == township]
        target = Point(anchor)
        segment = min(segments, key=lambda s: s.line.distance(target))
        on_line = segment.line.interpolate(segment.line.project(target))
        return (on_line.x, on_line.y), segment


_QUALIFIERS = set("东西南北中新老上下前后大小")


def _different_road(written: str, known: str) -> bool:
    """True when two names differ only by qualifiers (和平西路 vs 和平路): different roads, not a typo."""
    if len(written) == len(known):
        return False
    strip = lambda name: "".join(ch for ch in name if ch not in _QUALIFIERS)  # noqa: E731
    return strip(written) == strip(known)
