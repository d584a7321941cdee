"""Official names of administrative areas and the short forms people write for them."""

from __future__ import annotations

import re

# Longest suffixes first: 社区居委会 before 居委会.
_VILLAGE_SUFFIXES = ("社区居民委员会", "村民委员会", "社区居委会", "居委会", "村委会")
_ETHNIC = re.compile(r"(畲族|回族|满族|苗族|瑶族|土家族)")
# Suffixes people leave out, by level, longest first: 永康市 → 永康, 婺城区 → 婺城, 金华市 → 金华.
_SHORT_SUFFIXES = {
    "city": ("自治州", "地区", "市"),
    "county": ("自治县", "县", "市", "区"),
    "township": ("街道", "镇", "乡"),
    "village": ("社区", "村"),
}


def admin_kind(name: str, level: str) -> str:
    """The kind of an area from its official name: 县/市/区, 街道/镇/乡, 社区/村."""
    for suffix in ("街道", "镇", "乡", "社区", "村", "县", "市", "区"):
        if display_name(name, level).endswith(suffix):
            return suffix
    return ""


def display_name(name: str, level: str) -> str:
    """The name shown to users: ``某某村委会`` → ``某某村``, ``某某社区居委会`` → ``某某社区``."""
    name = name.strip()
    if level == "village":
        for suffix in _VILLAGE_SUFFIXES:
            if name.endswith(suffix):
                stem = name[: -len(suffix)]
                if "社区" in suffix or suffix == "居委会":
                    return stem if stem.endswith("社区") else stem + "社区"
                return stem if stem.endswith("村") else stem + "村"
    return name


def admin_aliases(name: str, level: str) -> list[str]:
    """Every form of an area's name people write, the display name first, without duplicates.

    Examples: 武义县 → [武义县, 武义]; 永康市 → [永康市, 永康]; 婺城区 → [婺城区, 婺城] (level
    ``county``); 金华市 → [金华市, 金华] (level ``city``); 柳城畲族镇 → [柳城畲族镇, 柳城镇, 柳城];
    白洋街道 → [白洋街道, 白洋]; 下王宅社区居委会 → [下王宅社区, 下王宅社区居委会, 下王宅].
    A short form keeps at least two characters.
    """
    shown = display_name(name, level)
    forms = [shown, name.strip()]
    without_ethnic = _ETHNIC.sub("", shown)
    forms.append(without_ethnic)
    for suffix in _SHORT_SUFFIXES.get(level, ()):
        if without_ethnic.endswith(suffix) and len(without_ethnic) - len(suffix) >= 2:
            forms.append(without_ethnic[: -len(suffix)])
            break
    return _unique(forms)


def county_aliases(name: str, short_name: str | None = None) -> list[str]:
    """The forms of the county's own name: :func:`admin_aliases` at level ``county``, then the
    region's configured ``short_name`` (``[region] short_name``) when it is another form.
    """
    return _unique([*admin_aliases(name, "county"), short_name or ""])


def _unique(forms: list[str]) -> list[str]:
    seen: list[str] = []
    for form in forms:
        if form and form not in seen:
            seen.append(form)
    return seen
