"""Address text normalisation: width, spaces, typos, Chinese numerals in door numbers, region prefixes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from geo.admin_names import county_aliases
from geo.geocode.outside import OutsideNames, read_outside_places
from geo.region import Region

# Frequent misspellings and variant characters in typed addresses (applied after NFKC).
TYPOS: tuple[tuple[str, str], ...] = (
    ("號", "号"),
    ("巿", "市"),
    ("囗", "口"),
    ("付近", "附近"),
    ("傍边", "旁边"),
    ("交叉路口", "交叉口"),
    ("十字路口", "交叉口"),
    ("交汇处", "交叉口"),
    ("交界处", "交叉口"),
    ("單元", "单元"),
    ("単元", "单元"),
    ("衖", "弄"),
    ("栋", "幢"),
    ("號樓", "幢"),
    ("街道办事处", "街道"),
    ("居民委员会", "居委会"),
    ("村民委员会", "村委会"),
)

# Cells that say "no address" in so many words.
MEANINGLESS = frozenset(
    {
        "不详",
        "无",
        "未知",
        "暂无",
        "空",
        "待定",
        "不清楚",
        "未填",
        "无地址",
        "地址不详",
        "见附件",
        "详见附件",
        "同上",
        "如上",
        "现场",
        "见描述",
        "null",
        "none",
        "nan",
        "na",
        "n/a",
    }
)

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(r"[零〇○一二两三四五六七八九十百千]+(?=号|弄|幢|单元|室|楼|层|组)")
_SPACES = re.compile(r"\s+")
_DROP = re.compile(r"[()\[\]{}<>\"'`,.;:!?|*~^_=@$%，。；：！？“”‘’《》【】〔〕]")
_DASHES = re.compile(r"[—–―‐‑~～]")
_LETTER_O_IN_NUMBER = re.compile(r"(?<=\d)[oO](?=\d|号)")
_HASH_BUILDING = re.compile(r"(\d+)#(?:楼|幢)")
_HASH_DOOR = re.compile(r"(\d+)#")
_NUMBER_BUILDING = re.compile(r"(\d+)号楼")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# "XX市" / "XX县" at the start naming a place outside the county (not 市场, 市民, 县城 …).
_OTHER_AREA = re.compile(r"^([\u4e00-\u9fff]{2,4}?(?:市(?!场|民|政|容|集|心|管)|县(?!城|前|后|府|道|委)))")
_OTHER_PROVINCE = re.compile(r"^([\u4e00-\u9fff]{2,3}省)")


def chinese_number(text: str) -> int:
    """Value of a Chinese numeral: ``十二`` → 12, ``一百零五`` → 105, ``三〇二`` → 302 (digit by digit)."""
    if not any(ch in _CN_UNITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return total + digit


# Full-width digits and Latin letters (U+FF10–FF19, U+FF21–FF3A, U+FF41–FF5A) and their ASCII forms.
# Only these: full-width punctuation (，。：（）) and the ideographic space are how Chinese is written
# and stay as typed. One table, used by :func:`fold_width` (case search, stored case text).
_ALNUM = ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B))
_FULL_WIDTH = "".join(chr(c) for a, b in _ALNUM for c in range(a, b))
_HALF_WIDTH = "".join(chr(c - 0xFEE0) for a, b in _ALNUM for c in range(a, b))
WIDTH_TABLE = str.maketrans(_FULL_WIDTH, _HALF_WIDTH)


def fold_width(text: str | None) -> str | None:
    """Full-width digits and Latin letters as their half-width forms, nothing else changed.

    ``"解放街１８８号，Ａ座"`` → ``"解放街188号，A座"`` (Chinese punctuation stays as written).
    The case job stores case text folded and the case search folds its query the same way, so either
    spelling finds the other with the trigram indexes.
    None stays None.
    """
    return None if text is None else text.translate(WIDTH_TABLE)


def clean_text(text: str | None) -> str:
    """Width, spaces, punctuation, typos and Chinese door numerals fixed; no prefix stripping.

    Examples: ``"武义县　白洋街道 壶山上街１２号"`` → ``"武义县白洋街道壶山上街12号"``;
    ``"解放街十二号"`` → ``"解放街12号"``.
    """
    if not text:
        return ""
    out = unicodedata.normalize("NFKC", str(text))
    out = _SPACES.sub("", out)
    out = _DASHES.sub("-", out)
    for wrong, right in TYPOS:
        out = out.replace(wrong, right)
    out = _LETTER_O_IN_NUMBER.sub("0", out)
    out = _HASH_BUILDING.sub(r"\1幢", out)
    out = _HASH_DOOR.sub(r"\1号", out)
    out = _NUMBER_BUILDING.sub(r"\1幢", out)
    out = _DROP.sub("", out)
    return _CN_NUMBER.sub(lambda m: str(chinese_number(m.group(0))), out)


def name_key(name: str | None) -> str:
    """The form a gazetteer name is stored and looked up in (same cleaning as addresses)."""
    return clean_text(name)


def is_meaningless(text: str, cleaned: bool = False) -> bool:
    """True for an address that says nothing: only punctuation, digits or Latin letters, or 不详 and kin."""
    cleaned = text if cleaned else clean_text(text)
    return cleaned.lower() in MEANINGLESS or not _CJK.search(cleaned)


@dataclass(frozen=True)
class RegionNames:
    """The names around the county an address may start with, from the region config."""

    provinces: tuple[str, ...]
    cities: tuple[str, ...]
    counties: tuple[str, ...]
    county_name: str
    outside: OutsideNames = field(default_factory=OutsideNames)

    @classmethod
    def from_region(cls, region: Region) -> RegionNames:
        """Province, city and county forms (full and short), and the places outside ``region``."""

        def forms(name: str, suffixes: tuple[str, ...]) -> tuple[str, ...]:
            if not name:
                return ()
            out = [name]
            for suffix in suffixes:
                if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                    out.append(name[: -len(suffix)])
            return tuple(out)

        provinces = forms(region.province, ("省", "自治区"))
        cities = forms(region.city, ("市",))
        counties = tuple(county_aliases(region.name, region.short_name))
        rows = list(read_outside_places(region.outside_places_file)) if region.outside_places_file else []
        rows += [(name, "") for name in region.neighbours if name != region.city]
        return cls(
            provinces=provinces,
            cities=cities,
            counties=counties,
            county_name=region.name,
            outside=OutsideNames.build(rows, {*provinces, *cities, *counties, region.short_name}),
        )


@dataclass(frozen=True)
class Stripped:
    """An address without its province/city/county prefix, and the outside area it names, if any."""

    text: str
    outside: str | None = None
    named_county: bool = False


def strip_region(
    text: str,
    names: RegionNames,
    local_prefixes: frozenset[str] = frozenset(),
    local_names: frozenset[str] = frozenset(),
) -> Stripped:
    """Remove 浙江省/金华市/武义县 (and short forms) from the start; detect addresses in other areas.

    Parameters
    ----------
    text
        A cleaned address (:func:`clean_text`).
    names
        The region's names.
    local_prefixes
        Names of the county's townships and villages; a short city form (``金华``) is stripped
        only when one of these or a county form follows.
    local_names
        Names of the county's roads and places; the short county form (``武义``) is stripped when
        one of these or a township/village follows, so that ``武义大道`` stays a road.
    """

    def starts_with(rest: str, names_: frozenset[str]) -> bool:
        return any(rest[:n] in names_ for n in range(2, min(len(rest), 12) + 1))

    def local(rest: str) -> bool:
        return starts_with(rest, local_prefixes)

    def starts_local(rest: str) -> bool:
        return local(rest) or any(rest.startswith(c) for c in names.counties)

    def local_length(rest: str) -> int:
        """Length of the longest name of this county (township, village, road, place) ``rest`` starts with."""
        for n in range(min(len(rest), 12), 1, -1):
            if rest[:n] in local_prefixes or rest[:n] in local_names:
                return n
        return 0

    def outside_at_start(rest: str) -> str | None:
        """The outside place ``rest`` starts with, unless a longer or equally long local name starts there too.

        舟山市定海区 is outside even in a county with a 舟山镇 (舟山市 is longer than 舟山); 江山
        alone is this county's village, not 江山市.
        """
        hit = names.outside.at_start(rest)
        if hit and len(hit[0]) > local_length(rest):
            return hit[1]
        other = _OTHER_AREA.match(rest)
        if other and len(other.group(1)) > local_length(rest):
            return other.group(1)
        return None

    rest = text
    for province in names.provinces:
        if rest.startswith(province):
            rest = rest[len(province) :]
            break
    else:
        other = _OTHER_PROVINCE.match(rest)
        if other:
            return Stripped(rest, outside=other.group(1))
    named_city = None
    for index, city in enumerate(names.cities):
        if rest.startswith(city):
            after = rest[len(city) :]
            if index == 0 or starts_local(after):
                named_city = city
                rest = after
            elif outside := outside_at_start(after):
                return Stripped(after, outside=outside)  # 金华婺城区: the short city form, then a district
            break
    named_county = False
    stripping = True
    while stripping:  # 武义县武义县第一中学: the county written twice
        stripping = False
        for index, county in enumerate(names.counties):
            if rest.startswith(county):
                after = rest[len(county) :]
                if index == 0 or local(after) or starts_with(after, local_names) or after.startswith(("城区", "县城")):
                    rest = after
                    named_county = stripping = True
                break
    if not named_county:
        outside = outside_at_start(rest)
        if outside:
            return Stripped(rest, outside=outside)
        if named_city and not starts_local(rest):
            # 金华市 followed by nothing of this county: an address in the city proper.
            return Stripped(rest, outside=named_city)
    return Stripped(rest, named_county=named_county)
