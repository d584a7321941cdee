"""The admin areas an address names (township, village), resolved against the gazetteer before any street."""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from geo.geocode.index import GazetteerIndex
from geo.geocode.parse import ParsedAddress

FUZZY_ADMIN_CUTOFF = 75  # rapidfuzz ratio a misspelt township or village name must reach


@dataclass
class MatchContext:
    """Admin area named by the address, and what has been matched so far."""

    township: str | None = None
    village: str | None = None
    matched: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    score: float = 1.0
    outside: str | None = None  # a township named with its suffix that this county does not have


def admin_context(index: GazetteerIndex, parsed: ParsedAddress) -> MatchContext:
    """The township and village ``parsed`` names (fuzzy where misspelt), with notes on what is ambiguous.

    Sets ``parsed.village`` when a fuzzy or hinted village name stands for a known one; sets
    ``outside`` (and stops) for a township this county does not have.
    """
    ctx = MatchContext()
    if parsed.township:
        ctx.township = index.township_names.get(parsed.township)
    for text in parsed.unknown_admin:
        if ctx.township is None and text.endswith(("街道", "镇", "乡")):
            if not _fuzzy_township(index, text, ctx):
                ctx.outside = text
                return ctx
        elif parsed.village is None and text.endswith(("村", "社区")):
            parsed.village = _fuzzy_village(index, text, ctx.township)
    hint = parsed.area_hint
    if hint and ctx.township is None and hint in index.township_names:
        ctx.township = index.township_names[hint]
    elif hint and parsed.village is None and hint in index.village_names:
        parsed.village = hint
    if ctx.township:
        ctx.matched.append(index.townships[ctx.township].name)
    if parsed.village:
        _village(index, parsed.village, ctx)
    return ctx


def _fuzzy_township(index: GazetteerIndex, text: str, ctx: MatchContext) -> bool:
    """Set the township a township name with an unknown spelling stands for; False when none."""
    stem = text.removesuffix("街道").removesuffix("镇").removesuffix("乡")
    found = process.extractOne(text, list(index.township_names), scorer=fuzz.ratio, score_cutoff=FUZZY_ADMIN_CUTOFF)
    if stem in index.township_names:  # 壶山镇 for 壶山街道: the suffix is wrong, the name is ours
        ctx.township = index.township_names[stem]
        ctx.score *= 0.95
    elif found:
        ctx.township = index.township_names[found[0]]
        ctx.score *= 0.9 * found[1] / 100
    else:
        return False
    return True


def _fuzzy_village(index: GazetteerIndex, text: str, township: str | None) -> str | None:
    names = [
        name
        for name, codes in index.village_names.items()
        if township is None or any(index.villages[c].township_code == township for c in codes)
    ]
    found = process.extractOne(text, names, scorer=fuzz.ratio, score_cutoff=FUZZY_ADMIN_CUTOFF)
    return found[0] if found else None


def _village(index: GazetteerIndex, written: str, ctx: MatchContext) -> None:
    """Resolve the village written as ``written`` (within the township when known) into ``ctx``."""
    codes = index.village_names.get(written, [])
    if ctx.township:
        codes = [c for c in codes if index.villages[c].township_code == ctx.township]
    # Two villages one of which is written exactly (后山村 beside 后山村社区, both 后山村 in
    # short): the exact name wins.
    codes = [c for c in codes if index.villages[c].name == written] or codes
    towns = {index.villages[c].township_code for c in codes}
    if len(codes) > 1 and len(towns) == 1 and None not in towns:
        # Same short form for two villages of one township (王宅 for 王宅村 and 王宅社区):
        # the township is known, the village is not.
        ctx.township = ctx.township or towns.pop()
        if not ctx.matched:
            ctx.matched.append(index.townships[ctx.township].name)
        names = "、".join(sorted(index.villages[c].name for c in codes))
        ctx.notes.append(f"“{written}”在{index.townships[ctx.township].name}有多个村社区（{names}）")
    elif len(codes) == 1:
        ctx.village = codes[0]
        area = index.villages[codes[0]]
        ctx.township = ctx.township or area.township_code
        if area.township_code and not ctx.matched:
            ctx.matched.append(index.townships[area.township_code].name)
        ctx.matched.append(area.name)
    elif len(codes) > 1:
        ctx.notes.append(f"村社区名“{written}”在多个乡镇重名")
    elif ctx.township:
        ctx.notes.append(f"“{written}”不在所写乡镇内")
