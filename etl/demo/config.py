"""The demo's invented county facts (squads, places, street names, case volumes and mix …), read from ``demo.toml``.

The file sits beside the region config (``regions/<county>/demo.toml``, see
``regions/wuyi/demo.toml`` for every field). Another county's demo is another such file, not
new code. Every problem in the file is reported at once.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.demo.case_model import HOUR_PROFILES, LOCATION_KINDS, PARTY_KINDS, PLACE_KINDS, SEASONS
from geo.errors import ValidationError
from geo.region import Region, read_config_toml

DEMO_FILE = "demo.toml"
# How many names of each class the urban street grid uses (etl/demo/streets.py).
URBAN_STREET_COUNTS = {"main": 9, "secondary": 9, "minor": 14, "lanes": 8}
# The fields an address prefix template may use.
PREFIX_FIELDS = ("province", "city", "city_short", "county", "short", "township", "township_short")
NUMBER_FIELDS = ("year", "seq", "date")


@dataclass(frozen=True)
class SquadSpec:
    """One squad: code, name, townships (division codes), officers, response model, sweeping routes."""

    code: str
    name: str
    townships: tuple[str, ...]
    officers: int
    delay_min: float  # minutes before leaving for a scene
    speed_kmh: float  # travel speed to a scene
    sweeping_routes: int


@dataclass(frozen=True)
class PlaceSpec:
    """A named urban landmark: where it lies (a township, the old town, or anywhere in the county town)."""

    name: str
    kind: str
    hot: float
    township: str | None = None
    old_town: bool = False


@dataclass(frozen=True)
class Category:
    """A case category: enforcement domain, where and when it happens, against whom, its description."""

    domain: str
    locations: dict[str, float]
    hours: str
    season: str
    party: str
    description: str


@dataclass(frozen=True)
class DemoConfig:
    """The invented facts of one county's demo (see ``regions/wuyi/demo.toml``)."""

    path: Path
    squads: tuple[SquadSpec, ...]
    urban_townships: tuple[str, ...]
    old_town: str
    grid_angle_deg: float
    grid_offset_m: tuple[float, float]
    urban_streets: dict[str, tuple[str, ...]]
    urban_places: tuple[PlaceSpec, ...]
    chiefs: int
    volumes: dict[str, int]
    mix: dict[str, dict[str, float]]
    sources: dict[str, dict[str, float]]
    categories: dict[str, Category]
    case_numbers: dict[str, str]
    address_prefixes: tuple[str, ...]
    id_areas: tuple[str, ...]
    station_phone_prefix: str
    plate_prefix: str
    outside_points: tuple[tuple[float, float], ...]

    def squad_of_township(self) -> dict[str, str]:
        """Squad code by township code."""
        return {town: squad.code for squad in self.squads for town in squad.townships}

    def is_urban(self, squad: SquadSpec) -> bool:
        """True for a squad whose townships all lie in the county town."""
        return all(code in self.urban_townships for code in squad.townships)

    def check_townships(self, codes: list[str], expected_squads: int) -> None:
        """Raise :class:`ValidationError` unless the squads tile exactly the region's townships ``codes``."""
        problems: list[str] = []
        known = set(codes)
        seen: dict[str, str] = {}
        for squad in self.squads:
            for code in squad.townships:
                if code not in known:
                    problems.append(f"[squads] {squad.code}: township {code} is not in the region's townships")
                elif code in seen:
                    problems.append(f"[squads] {squad.code}: township {code} is already in {seen[code]}")
                seen.setdefault(code, squad.code)
        missing = sorted(known - set(seen))
        if missing:
            problems.append(f"[squads] townships in no squad: {missing}")
        for code in [*self.urban_townships, self.old_town]:
            if code not in known:
                problems.append(f"[urban] township {code} is not in the region's townships")
        if len(self.squads) != expected_squads:
            problems.append(f"[squads] {len(self.squads)} squads, the region expects {expected_squads}")
        if problems:
            raise ValidationError(f"demo config {self.path} does not fit the region:", problems)


def demo_config_path(region: Region) -> Path:
    """Where a region's demo config lives: ``demo.toml`` beside its region config."""
    return region.path.with_name(DEMO_FILE)


def load_demo_config(region: Region) -> DemoConfig:
    """Read and validate the demo config beside ``region``'s config; every problem is reported at once.

    Parameters
    ----------
    region
        The region whose ``demo.toml`` is read (procedure types are checked against its time limits).

    Returns
    -------
    DemoConfig
        The county's demo facts.
    """
    path = demo_config_path(region)
    raw = read_config_toml(path, "demo config", "the demo needs one beside the region config")
    problems: list[str] = []
    reader = _Reader(raw, problems)
    config = DemoConfig(
        path=path,
        squads=tuple(_squad(code, spec, reader) for code, spec in reader.table("squads").items()),
        urban_townships=tuple(reader.get("urban", "townships", list, [])),
        old_town=reader.get("urban", "old_town", str, ""),
        grid_angle_deg=float(reader.get("urban", "grid_angle_deg", (int, float), 0)),
        grid_offset_m=tuple(float(v) for v in reader.get("urban", "grid_offset_m", list, [0, 0])),
        urban_streets={kind: tuple(reader.get("urban", kind, list, [])) for kind in URBAN_STREET_COUNTS},
        urban_places=tuple(_place(spec, reader) for spec in reader.get("urban", "places", list, [])),
        chiefs=reader.get("demo", "chiefs", int, 0),
        volumes=dict(reader.table("cases", "volumes")),
        mix={proc: dict(mix) for proc, mix in reader.table("cases", "mix").items()},
        sources={proc: dict(mix) for proc, mix in reader.table("cases", "sources").items()},
        categories={name: _category(name, spec, reader) for name, spec in reader.table("cases", "categories").items()},
        case_numbers=dict(reader.table("cases", "numbers")),
        address_prefixes=tuple(reader.get("cases", "address_prefixes", list, [])),
        id_areas=tuple(str(v) for v in reader.get("demo", "id_areas", list, [])),
        station_phone_prefix=reader.get("demo", "station_phone_prefix", str, ""),
        plate_prefix=reader.get("demo", "plate_prefix", str, ""),
        outside_points=tuple((float(p[0]), float(p[1])) for p in reader.get("cases", "outside_points", list, [])),
    )
    problems += _consistency(config, region)
    if problems:
        raise ValidationError(f"demo config {path} has problems:", problems)
    return config


class _Reader:
    """Typed access to the raw TOML that records a problem instead of raising."""

    def __init__(self, raw: dict[str, Any], problems: list[str]) -> None:
        self.raw = raw
        self.problems = problems

    def table(self, *keys: str) -> dict[str, Any]:
        node: Any = self.raw
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or not node:
            self.problems.append(f"[{'.'.join(keys)}] is missing or empty")
            return {}
        return node

    def get(self, section: str, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = self.raw.get(section, {}).get(key)
        if value is None or not isinstance(value, kind) or isinstance(value, bool):
            self.problems.append(f"[{section}] {key} is missing or of the wrong type")
            return default
        return value


def _field(where: str, spec: dict[str, Any], key: str, cast: Callable[[Any], Any], reader: _Reader) -> Any:
    try:
        return cast(spec[key])
    except (KeyError, TypeError, ValueError):
        reader.problems.append(f"{where}: {key} is missing or invalid")
        return None


def _squad(code: str, spec: Any, reader: _Reader) -> SquadSpec:
    where = f"[squads] {code}"
    spec = spec if isinstance(spec, dict) else {}
    return SquadSpec(
        code=code,
        name=_field(where, spec, "name", str, reader),
        townships=_field(where, spec, "townships", lambda v: tuple(str(c) for c in v), reader) or (),
        officers=_field(where, spec, "officers", int, reader),
        delay_min=_field(where, spec, "delay_min", lambda v: v if isinstance(v, int | float) else float(v), reader),
        speed_kmh=_field(where, spec, "speed_kmh", lambda v: v if isinstance(v, int | float) else float(v), reader),
        sweeping_routes=int(spec.get("sweeping_routes", 1)),
    )


def _place(spec: Any, reader: _Reader) -> PlaceSpec:
    spec = spec if isinstance(spec, dict) else {}
    where = f"[urban] places {spec.get('name', '?')}"
    kind = _field(where, spec, "kind", str, reader)
    if kind is not None and kind not in PLACE_KINDS:
        reader.problems.append(f"{where}: kind {kind!r} is not one of {PLACE_KINDS}")
    return PlaceSpec(
        name=_field(where, spec, "name", str, reader),
        kind=kind,
        hot=_field(where, spec, "hot", float, reader),
        township=spec.get("township"),
        old_town=bool(spec.get("old_town", False)),
    )


def _category(name: str, spec: Any, reader: _Reader) -> Category:
    where = f"[cases.categories] {name}"
    spec = spec if isinstance(spec, dict) else {}
    category = Category(
        domain=_field(where, spec, "domain", str, reader),
        locations=_field(where, spec, "locations", dict, reader) or {},
        hours=_field(where, spec, "hours", str, reader),
        season=_field(where, spec, "season", str, reader),
        party=_field(where, spec, "party", str, reader),
        description=_field(where, spec, "description", str, reader),
    )
    for kind in category.locations:
        if kind not in LOCATION_KINDS:
            reader.problems.append(f"{where}: location {kind!r} is not one of {LOCATION_KINDS}")
    for value, known, label in (
        (category.hours, tuple(HOUR_PROFILES), "hours"),
        (category.season, SEASONS, "season"),
        (category.party, PARTY_KINDS, "party"),
    ):
        if value is not None and value not in known:
            reader.problems.append(f"{where}: {label} {value!r} is not one of {known}")
    return category


def _template_fields(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        return {"<malformed>"}


def _consistency(config: DemoConfig, region: Region) -> list[str]:
    """Problems between sections: procedure types, categories, street names, templates."""
    problems: list[str] = []
    procedures = [name for name in region.time_limits if name != "default"]
    for proc in config.volumes:
        if proc not in procedures:
            problems.append(f"[cases.volumes] {proc} is not a procedure type of the region's time limits")
        for section, table in (("mix", config.mix), ("sources", config.sources), ("numbers", config.case_numbers)):
            if proc not in table:
                problems.append(f"[cases.{section}] has no entry for {proc}")
    for proc, mix in config.mix.items():
        for category in mix:
            if category not in config.categories:
                problems.append(f"[cases.mix.{proc}] {category} is not in [cases.categories]")
    for kind, count in URBAN_STREET_COUNTS.items():
        if len(config.urban_streets[kind]) < count:
            problems.append(f"[urban] {kind} needs at least {count} street names")
    for template in config.address_prefixes:
        unknown = _template_fields(template) - set(PREFIX_FIELDS)
        if unknown:
            problems.append(f"[cases] address_prefixes {template!r}: unknown fields {sorted(unknown)}")
    for proc, template in config.case_numbers.items():
        unknown = _template_fields(template) - set(NUMBER_FIELDS)
        if unknown:
            problems.append(f"[cases.numbers] {proc} {template!r}: unknown fields {sorted(unknown)}")
    if config.old_town and config.old_town not in config.urban_townships:
        problems.append(f"[urban] old_town {config.old_town} is not one of the urban townships")
    for place in config.urban_places:
        if place.township is not None and place.township not in config.urban_townships:
            problems.append(f"[urban] places {place.name}: township {place.township} is not urban")
    if not config.outside_points:
        problems.append("[cases] outside_points is empty")
    officers = sum(squad.officers or 0 for squad in config.squads)
    if region.officers and officers != region.officers:
        problems.append(f"[squads] officers add up to {officers}, the region has {region.officers} ([region] officers)")
    return problems
