"""Split a cleaned address into township, village, road + door number, intersection, place and landmark."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

ROAD_SUFFIXES = ("大道", "大街", "公路", "路", "街", "巷", "线")
RELATIONS = (
    "斜对面",
    "对面",
    "附近",
    "旁边",
    "隔壁",
    "门口",
    "门前",
    "周边",
    "一带",
    "边上",
    "东侧",
    "西侧",
    "南侧",
    "北侧",
    "东门",
    "西门",
    "南门",
    "北门",
    "旁",
    "边",
)
SECTION_SUFFIXES = ("路段", "段")
_ROAD = r"[\u4e00-\u9fffA-Za-z0-9]{1,10}?(?:大道|大街|公路|路|街|巷|线)"
_JOIN = r"(?:与|和|及|、|/|&|\+|-)"
_CROSS_JOINED = re.compile(rf"^(?P<a>{_ROAD}){_JOIN}(?P<b>{_ROAD})(?:交叉口|路口|口|交叉)?$")
_CROSS_ADJACENT = re.compile(rf"^(?P<a>{_ROAD})(?P<b>{_ROAD})(?:交叉口|路口|口)$")
_DOOR = re.compile(r"^(?:(?P<lane>\d+)弄)?(?P<door>\d+)(?:-\d+)*(?:号|(?![\d幢单室楼层组弄]))|^(?P<lane_only>\d+)弄")
_DETAIL = re.compile(r"(?:\d+(?:幢|号楼|楼|单元|室|层|组|号))+$")
_ROAD_DOOR = re.compile(rf"(?P<road>{_ROAD})(?P<door>(?:\d+弄)?\d+(?:-\d+)*号)")
_NAME_DOOR = re.compile(r"(?P<road>[\u4e00-\u9fff]{2,10}?)(?P<door>\d+(?:-\d+)*号)")
# A township-level name with its suffix (南马镇, 西城街道), not a compound or scenery word ending in
# the same character (XX小镇, 江南水乡).
_UNKNOWN_TOWNSHIP = re.compile(r"^([\u4e00-\u9fff]{2,4}?(?:街道|镇|乡))(?![路街巷道])")
_NOT_TOWNSHIPS = ("小镇", "古镇", "水乡", "家乡", "故乡", "城乡", "老乡")
_UNKNOWN_VILLAGE = re.compile(r"^([\u4e00-\u9fff]{2,4}?(?:社区|村))(?![路街巷道委])(?:委会|居委会)?")
_GROUP = re.compile(r"^\d+组")


@dataclass
class Lexicon:
    """Known names by kind (township, village, road, place) for longest-match tokenising."""

    kinds: dict[str, set[str]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)  # name lengths present, longest first

    def add(self, kind: str, names: Iterable[str]) -> None:
        """Register ``names`` (cleaned) as names of ``kind``."""
        for name in names:
            if len(name) >= 2:
                self.kinds.setdefault(name, set()).add(kind)
        self.lengths = sorted({len(n) for n in self.kinds}, reverse=True)

    def longest_at(self, text: str, start: int, kinds: set[str]) -> tuple[str, str] | None:
        """The longest known name of one of ``kinds`` starting at ``start``: (kind, name)."""
        room = len(text) - start
        for length in self.lengths:
            if length > room:
                continue
            found = self.kinds.get(text[start : start + length])
            if found:
                hit = found & kinds
                if hit:
                    # A name of two kinds: a road or place wins; a township wins over a village
                    # stem (熟溪 is 熟溪街道 before 熟溪社区).
                    for kind in ("road", "place", "township", "village"):
                        if kind in hit:
                            return kind, text[start : start + length]
        return None

    def find_longest(self, text: str, kinds: set[str]) -> tuple[str, str, int] | None:
        """The longest known name of one of ``kinds`` anywhere in ``text``: (kind, name, start)."""
        best: tuple[str, str, int] | None = None
        for start in range(len(text) - 1):
            hit = self.longest_at(text, start, kinds)
            if hit and (best is None or len(hit[1]) > len(best[1])):
                best = (hit[0], hit[1], start)
        return best


@dataclass
class ParsedAddress:
    """The parts of one address; every part is optional."""

    text: str
    township: str | None = None
    village: str | None = None
    road: str | None = None
    road_known: bool = False
    door: int | None = None
    detail: str | None = None
    cross: tuple[str, str] | None = None
    place: str | None = None
    area_hint: str | None = None  # 柳城 in 武柳线柳城段: the area a road section lies in
    relation: str | None = None
    unknown_admin: list[str] = field(default_factory=list)


def _strip_relation(text: str) -> tuple[str, str | None]:
    for relation in RELATIONS:
        if text.endswith(relation) and len(text) > len(relation) + 1:
            return text[: -len(relation)], relation
    return text, None


def parse(text: str, lexicon: Lexicon | None = None) -> ParsedAddress:
    """Parse a cleaned address without its region prefix (see :mod:`geo.geocode.normalize`).

    Parameters
    ----------
    text
        E.g. ``白洋街道壶山上街12号``, ``熟溪街道解放街与壶山下街交叉口``, ``阳光小区3幢2单元301室``,
        ``泉溪镇中心小学对面``.
    lexicon
        Known names; without it the parser relies on suffixes (路/街/镇/村 …) alone.

    Returns
    -------
    ParsedAddress
        What was found; the matcher decides which part to trust.
    """
    lexicon = lexicon or Lexicon()
    result = ParsedAddress(text=text)
    rest = text

    # 1. Township and village at the front, longest known name first.
    for _ in range(4):
        hit = lexicon.longest_at(rest, 0, {"township", "village", "road", "place"})
        if hit and hit[0] == "township" and result.township is None:
            result.township = hit[1]
            rest = rest[len(hit[1]) :]
            for suffix in ("街道", "镇", "乡"):  # 壶山镇 for 壶山街道: the short form, then a wrong suffix
                if rest.startswith(suffix) and len(rest) > len(suffix) + 1:
                    rest = rest[len(suffix) :]
                    break
            continue
        if hit and hit[0] == "village" and result.village is None:
            result.village = hit[1]
            rest = rest[len(hit[1]) :]
            for tail in ("村委会", "居委会", "委会"):
                if rest.startswith(tail):
                    rest = rest[len(tail) :]
            continue
        if hit:
            break
        unknown = _UNKNOWN_TOWNSHIP.match(rest) if result.township is None else None
        if unknown and unknown.group(1).endswith(_NOT_TOWNSHIPS):
            unknown = None
        if unknown and len(rest) == len(unknown.group(0)):
            result.unknown_admin.append(unknown.group(1))  # the address is a township name alone
            break
        unknown = unknown or (_UNKNOWN_VILLAGE.match(rest) if result.village is None else None)
        if unknown and len(rest) > len(unknown.group(0)) + 1:
            result.unknown_admin.append(unknown.group(1))
            rest = rest[len(unknown.group(0)) :]
            continue
        break
    group = _GROUP.match(rest)
    if group:
        rest = rest[group.end() :]

    # 2. Landmark relation at the end (附近, 对面, 门口 …); "XX路口" is the road itself.
    rest, result.relation = _strip_relation(rest)
    if rest.endswith("路口") and not _CROSS_ADJACENT.match(rest) and not re.search(_JOIN, rest):
        # 解放街路口 / 熟溪路口 name a road; 农贸市场路口 is the junction by a place.
        if rest[:-2].endswith(ROAD_SUFFIXES):
            rest = rest[:-2]
        elif "road" in lexicon.kinds.get(rest[:-1], ()) or not lexicon.find_longest(rest[:-2], {"place"}):
            rest = rest[:-1]
        else:
            rest = rest[:-2]
        result.relation = result.relation or "路口"

    # 3. Intersections: A路与B路交叉口, A路B路口.
    cross = _CROSS_JOINED.match(rest) or _CROSS_ADJACENT.match(rest)
    if cross:
        result.cross = (_known_road(cross.group("a"), lexicon), _known_road(cross.group("b"), lexicon))
        return result

    # 4. Road and door number: a known road name first, else a name ending in 路/街/巷 before a number.
    known = lexicon.find_longest(rest, {"road"})
    if known:
        _, road, start = known
        result.road, result.road_known = road, True
        before, after = rest[:start], rest[start + len(road) :]
    else:
        match = _ROAD_DOOR.search(rest) or re.search(rf"^(?P<road>{_ROAD})$", rest)
        loose = None if match else _NAME_DOOR.search(rest)
        if loose:
            # A name before a door number that does not end like a road: a misspelt road or a
            # compound; the matcher tries both.
            result.road = result.place = loose.group("road")
            before, after = rest[: loose.start("road")], rest[loose.end("road") :]
        elif match:
            result.road = match.group("road")
            before, after = rest[: match.start("road")], rest[match.end("road") :]
        else:
            before, after = rest, ""
    if result.road:
        door = _DOOR.match(after)
        if door:
            number = door.group("lane") or door.group("door") or door.group("lane_only")
            result.door = int(number)
            after = after[door.end() :]

    # 5. Place (compound, market, school …): the longest remaining text, without building details.
    leftovers = []
    for piece in (before, after):
        detail = _DETAIL.search(piece)
        if detail:
            result.detail = (result.detail or "") + detail.group(0)
            piece = piece[: detail.start()]
        piece, relation = _strip_relation(piece)
        result.relation = result.relation or relation
        if result.road and piece.endswith(SECTION_SUFFIXES):
            result.area_hint = piece.removesuffix("路段").removesuffix("段")
            continue
        if len(piece) >= 2 and not piece.isdigit():
            leftovers.append(piece)
    if leftovers and result.place is None:
        result.place = max(leftovers, key=len)
    return result


def _known_road(name: str, lexicon: Lexicon) -> str:
    """A regex-found road name, trimmed to a known road at its end when one is (e.g. 在解放街 → 解放街)."""
    for start in range(len(name) - 1):
        if "road" in lexicon.kinds.get(name[start:], set()):
            return name[start:]
    return name
