"""The region config (one county): names, codes, CRS, squads expected, time limits, calendar.

Loaded from the TOML file named by the ``EGIS_REGION`` setting (Wuyi by default). Nothing
else in the code knows which county it serves.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.crs import normalize_crs, to_wgs84, transform_geometry
from geo.errors import ConfigError
from geo.live_config import LiveThresholds, WarningRules, read_live, read_warnings
from geo.settings import get_settings

TIME_LIMIT_UNITS = ("calendar_days", "working_days", "hours")
PATROL_MODES = ("foot", "ebike", "car")  # on foot, e-bike, patrol car


@dataclass(frozen=True)
class PatrolSpeeds:
    """Speeds of a patrol by mode, km/h (``[patrol]`` of the region config): between stops and along a
    segment being inspected (slower: looking at shop fronts, talking to people)."""

    travel_kmh: dict[str, float] = field(default_factory=lambda: {"foot": 4.5, "ebike": 15.0, "car": 25.0})
    inspect_kmh: dict[str, float] = field(default_factory=lambda: {"foot": 3.0, "ebike": 8.0, "car": 12.0})


@dataclass(frozen=True)
class Intake:
    """What a loaded record may plausibly be (``[intake]`` of the region config)."""

    earliest_date: dt.date = dt.date(2000, 1, 1)  # times before reject their row
    future_skew: dt.timedelta = dt.timedelta(hours=24)  # times after now + this reject their row
    foreign_max_share: float = 0.5  # a case file with more located rows outside / unmatched stops …
    foreign_min_rows: int = 10  # … when at least this many rows are


@dataclass(frozen=True)
class Analysis:
    """Settings of the analyses (``[analysis]`` of the region config)."""

    case_segment_max_m: float = 50.0  # a located case counts on the nearest street segment within this distance


@dataclass(frozen=True)
class GpsStorage:
    """How long raw GPS fixes are kept (``[gps]`` of the region config); derived visits stay."""

    retention_days: int = 180  # partitions of gps_fixes older than this are dropped (python -m etl maintenance)


@dataclass(frozen=True)
class TimeLimit:
    """How long a case of one type may take from received to closed."""

    value: float
    unit: str

    def label(self) -> str:
        """Chinese label shown to users, e.g. ``5个工作日``."""
        names = {"calendar_days": "天", "working_days": "个工作日", "hours": "小时"}
        number = int(self.value) if float(self.value).is_integer() else self.value
        return f"{number}{names[self.unit]}"


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday–Friday, minus public holidays, plus make-up working days (调休)."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    years: frozenset[int] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        """True when ``day`` is a working day."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def covers(self, year: int) -> bool:
        """True when the config lists the official holidays of ``year`` (else weekends only)."""
        return year in self.years

    def uncovered_years(self, start: dt.date, end: dt.date) -> tuple[int, ...]:
        """The years from ``start`` to ``end`` (both included) whose holidays the config does not list.

        Working days counted in such a year skip weekends only: New Year and the Spring Festival
        count as working days and make-up Saturdays do not.
        """
        first, last = sorted((start.year, end.year))
        return tuple(year for year in range(first, last + 1) if not self.covers(year))

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
        current = start
        remaining = days
        while remaining > 0:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += dt.timedelta(days=1)
            count += self.is_working_day(current)
        return count


@dataclass(frozen=True)
class Region:
    """One county's configuration (see ``regions/wuyi/region.toml`` for every field)."""

    path: Path
    name: str
    short_name: str
    code: str
    province: str
    city: str
    bureau: str
    timezone: str
    metric_crs: str
    expected_squads: int
    officers: int
    outside_margin_m: float
    outline_file: Path
    outline_crs: str
    outline_check_file: Path | None
    outline_check_min_iou: float
    townships_file: Path | None
    villages_file: Path | None
    seats_file: Path | None
    seats_crs: str
    outline_check_max_offset_m: float = 200.0  # centroid offset allowed against the check outline
    township_polygons: Path | None = None  # None: derive approximate polygons from the seats
    approximate_seats: dict[str, tuple[float, float]] = field(default_factory=dict)  # WGS-84, by code
    neighbours: tuple[str, ...] = ()
    arrive_limit_min: float = 30.0  # 到场时限: minutes from 受理 (received) to 到场 (arrived)
    outside_places_file: Path | None = None  # provinces, cities, counties outside (geo/geocode/outside.py)
    time_limits: dict[str, TimeLimit] = field(default_factory=dict)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    intake: Intake = field(default_factory=Intake)
    patrol: PatrolSpeeds = field(default_factory=PatrolSpeeds)
    live: LiveThresholds = field(default_factory=LiveThresholds)
    warnings: WarningRules = field(default_factory=WarningRules)
    analysis: Analysis = field(default_factory=Analysis)
    gps: GpsStorage = field(default_factory=GpsStorage)

    @property
    def tz(self) -> ZoneInfo:
        """The region's time zone."""
        return ZoneInfo(self.timezone)

    def time_limit(self, case_type: str | None) -> TimeLimit:
        """The time limit of a case type (procedure type or category), or the default."""
        if case_type and case_type in self.time_limits:
            return self.time_limits[case_type]
        return self.time_limits["default"]

    @cached_property
    def outline(self) -> BaseGeometry:
        """The county outline in WGS-84, converted from the configured file and CRS."""
        geom = read_geometry(self.outline_file)
        geom = shapely.make_valid(transform_geometry(geom, self.outline_crs))
        return geom


def read_geometry(path: Path) -> BaseGeometry:
    """The geometry of a GeoJSON file (a FeatureCollection is unioned), in the file's own coordinates."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read outline {path}: {exc}") from exc
    if data.get("type") == "FeatureCollection":
        return shapely.union_all([shape(f["geometry"]) for f in data["features"]])
    if data.get("type") == "Feature":
        return shape(data["geometry"])
    return shape(data)


def _parse_dates(values: list[str], where: str) -> frozenset[dt.date]:
    try:
        return frozenset(dt.date.fromisoformat(v) for v in values)
    except ValueError as exc:
        raise ConfigError(f"bad date in {where}: {exc}") from exc


def read_config_toml(path: Path, what: str, hint: str) -> dict:
    """The TOML config file ``path`` as a dict; :class:`ConfigError` naming ``what`` when missing or invalid.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message (``region config``).
    hint
        What to do when the file is missing (``set EGIS_REGION``).
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} not found: {path} ({hint})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from exc


def read_region(path: Path | str) -> Region:
    """Read and validate a region config file; every problem is reported at once."""
    path = Path(path).resolve()
    raw = read_config_toml(path, "region config", "set EGIS_REGION")

    problems: list[str] = []
    base = path.parent

    def need(section: str, key: str):
        value = raw.get(section, {}).get(key)
        if value is None:
            problems.append(f"[{section}] {key} is missing")
        return value

    def file(section: str, key: str, required: bool = True) -> Path | None:
        value = raw.get(section, {}).get(key)
        if value is None:
            if required:
                problems.append(f"[{section}] {key} is missing")
            return None
        resolved = (base / value).resolve()
        if not resolved.exists():
            problems.append(f"[{section}] {key}: file {resolved} does not exist")
        return resolved

    limits: dict[str, TimeLimit] = {}
    for name, spec in raw.get("time_limits", {}).items():
        if not isinstance(spec, dict) or spec.get("unit") not in TIME_LIMIT_UNITS or "value" not in spec:
            problems.append(f"[time_limits] {name}: needs value and unit in {TIME_LIMIT_UNITS}")
            continue
        limits[name] = TimeLimit(float(spec["value"]), spec["unit"])
    if "default" not in limits:
        problems.append("[time_limits] default is missing")

    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    years: set[int] = set()
    for year, spec in raw.get("calendar", {}).items():
        years.add(int(year))
        holidays |= _parse_dates(spec.get("holidays", []), f"calendar.{year}.holidays")
        workdays |= _parse_dates(spec.get("workdays", []), f"calendar.{year}.workdays")
    if holidays & workdays:
        problems.append(f"[calendar] dates both holiday and workday: {sorted(holidays & workdays)}")

    gazetteer = raw.get("gazetteer", {})
    polygons_value = gazetteer.get("township_polygons", "derive")
    township_polygons = None if polygons_value == "derive" else file("gazetteer", "township_polygons")
    outside_places = file("gazetteer", "outside_places", required=False)
    approximate_seats: dict[str, tuple[float, float]] = {}
    try:
        seats_crs_extra = normalize_crs(gazetteer.get("approximate_seats_crs", "EPSG:4326"))
        for code, pair in gazetteer.get("approximate_seats", {}).items():
            if not (isinstance(pair, list) and len(pair) == 2):
                problems.append(f"[gazetteer.approximate_seats] {code}: needs [lon, lat]")
                continue
            x, y = to_wgs84([pair[0]], [pair[1]], seats_crs_extra)
            approximate_seats[str(code)] = (float(x[0]), float(y[0]))
    except ConfigError as exc:
        problems.append(str(exc))

    region_section = raw.get("region", {})
    metric_crs = need("region", "metric_crs")
    try:
        metric_crs = normalize_crs(metric_crs) if metric_crs else metric_crs
    except ConfigError as exc:
        problems.append(str(exc))
    try:
        ZoneInfo(region_section.get("timezone", "Asia/Shanghai"))
    except Exception:
        problems.append(f"[region] timezone {region_section.get('timezone')!r} is unknown")

    intake = _read_intake(raw.get("intake", {}), problems)
    patrol = _read_patrol(raw.get("patrol", {}), problems)
    live = read_live(raw.get("live", {}), problems)
    warnings = read_warnings(raw.get("warnings", {}), problems)
    analysis = _read_analysis(raw.get("analysis", {}), problems)
    gps = _read_gps(raw.get("gps", {}), problems)
    values = dict(
        name=need("region", "name"),
        code=str(need("region", "code")),
        expected_squads=need("region", "expected_squads"),
        outline_file=file("outline", "file"),
    )
    if problems:
        from geo.errors import ValidationError

        raise ValidationError(f"region config {path} has problems:", problems)

    return Region(
        path=path,
        name=values["name"],
        short_name=region_section.get("short_name", values["name"]),
        code=values["code"],
        province=region_section.get("province", ""),
        city=region_section.get("city", ""),
        bureau=region_section.get("bureau", ""),
        timezone=region_section.get("timezone", "Asia/Shanghai"),
        metric_crs=metric_crs,
        expected_squads=int(values["expected_squads"]),
        officers=int(region_section.get("officers", 0)),
        arrive_limit_min=float(region_section.get("arrive_limit_min", 30)),
        outside_margin_m=float(region_section.get("outside_margin_m", 2000)),
        outline_file=values["outline_file"],
        outline_crs=normalize_crs(raw["outline"].get("crs", "EPSG:4326")),
        outline_check_file=file("outline", "check_file", required=False),
        outline_check_min_iou=float(raw["outline"].get("check_min_iou", 0.9)),
        outline_check_max_offset_m=float(raw["outline"].get("check_max_offset_m", 200)),
        townships_file=file("gazetteer", "townships", required=False),
        villages_file=file("gazetteer", "villages", required=False),
        seats_file=file("gazetteer", "seats", required=False),
        seats_crs=normalize_crs(raw.get("gazetteer", {}).get("seats_crs", "EPSG:4326")),
        township_polygons=township_polygons,
        approximate_seats=approximate_seats,
        neighbours=tuple(region_section.get("neighbours", [])),
        outside_places_file=outside_places,
        time_limits=limits,
        calendar=WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years)),
        intake=intake,
        patrol=patrol,
        live=live,
        warnings=warnings,
        analysis=analysis,
        gps=gps,
    )


def _read_analysis(section: dict, problems: list[str]) -> Analysis:
    """The ``[analysis]`` section (defaults for what it omits); problems are collected, not raised."""
    value = section.get("case_segment_max_m", Analysis.case_segment_max_m)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        problems.append("[analysis] case_segment_max_m must be a positive number of metres")
        return Analysis()
    return Analysis(case_segment_max_m=float(value))


def _read_gps(section: dict, problems: list[str]) -> GpsStorage:
    """The ``[gps]`` section (defaults for what it omits); problems are collected, not raised."""
    value = section.get("retention_days", GpsStorage.retention_days)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append("[gps] retention_days must be a whole number of days, at least 1")
        return GpsStorage()
    return GpsStorage(retention_days=value)


def _read_patrol(section: dict, problems: list[str]) -> PatrolSpeeds:
    """The ``[patrol]`` section: speeds per mode (defaults for what it omits); problems are collected."""
    default = PatrolSpeeds()
    speeds: dict[str, dict[str, float]] = {}
    for key in ("travel_kmh", "inspect_kmh"):
        given = section.get(key, {})
        merged = dict(getattr(default, key))
        for mode, value in given.items():
            if mode not in PATROL_MODES:
                problems.append(f"[patrol] {key}.{mode}: unknown mode, expected one of {PATROL_MODES}")
            elif not isinstance(value, int | float) or value <= 0:
                problems.append(f"[patrol] {key}.{mode}: needs a positive speed in km/h")
            else:
                merged[mode] = float(value)
        speeds[key] = merged
    return PatrolSpeeds(**speeds)


def _read_intake(section: dict, problems: list[str]) -> Intake:
    """The ``[intake]`` section (defaults for what it omits); problems are collected, not raised."""
    default = Intake()
    try:
        earliest = section.get("earliest_date", default.earliest_date)
        earliest = earliest if isinstance(earliest, dt.date) else dt.date.fromisoformat(str(earliest))
        intake = Intake(
            earliest_date=earliest,
            future_skew=dt.timedelta(hours=float(section.get("future_skew_hours", 24))),
            foreign_max_share=float(section.get("foreign_max_share", default.foreign_max_share)),
            foreign_min_rows=int(section.get("foreign_min_rows", default.foreign_min_rows)),
        )
    except (TypeError, ValueError) as exc:
        problems.append(f"[intake] {exc}")
        return default
    if not 0 < intake.foreign_max_share <= 1:
        problems.append("[intake] foreign_max_share must be in (0, 1]")
    if intake.future_skew < dt.timedelta(0):
        problems.append("[intake] future_skew_hours must not be negative")
    return intake


@lru_cache(maxsize=4)
def _cached_region(path: str) -> Region:
    return read_region(path)


def get_region() -> Region:
    """The configured region (cached per config path)."""
    return _cached_region(str(get_settings().region_config))
