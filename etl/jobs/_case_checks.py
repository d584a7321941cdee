"""Checks on one exported case row: stage times, phone coordinates; the run warning for calendar gaps."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from geo.case_review import FLAG_LABELS as FLAG_LABELS  # the labels live with the review queue
from geo.region import Region

STAGES = ("received_at", "dispatched_at", "arrived_at", "closed_at")
STAGE_NAMES = {"received_at": "上报", "dispatched_at": "派遣", "arrived_at": "到场", "closed_at": "办结"}
CLOSED_STATUSES = ("办结", "结案", "已完成", "已处置", "归档")
# The status a case event sets when it names none (the statuses of the provincial export).
STAGE_STATUS = {"received_at": "待派遣", "dispatched_at": "已派遣", "arrived_at": "办理中", "closed_at": "已结案"}


# How far the phone point may lie from the geocoded address before the case is flagged, per level.
MISMATCH_M = {"门牌": 300.0, "交叉口": 300.0, "小区或地点": 500.0, "道路": 1500.0, "村社区": 3000.0, "乡镇": 8000.0}
WGS84_AS_GCJ02_RAW_M = 100.0  # raw point this close to the address, …
WGS84_AS_GCJ02_CONVERTED_M = 250.0  # … converted point this far: the point was WGS-84 all along
FUTURE_TOLERANCE = dt.timedelta(minutes=10)  # later than now + this: flagged (beyond the region's skew: rejected)
EXCEL_SERIAL_RANGE = (20000.0, 80000.0)  # 1954-10-03 … 2119-01-10 as Excel serial dates

_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y%m%d%H%M%S", "%Y%m%d")


def parse_time(value: str | None, tz: ZoneInfo, formats: tuple[str, ...] = ()) -> dt.datetime | None:
    """A local time as exported (``2025-03-01 08:15:00``, ``2025/3/1 8:15``, Excel serial) → aware datetime.

    Parameters
    ----------
    value
        The cell as text; empty gives None.
    tz
        Time zone of times written without one.
    formats
        ``strptime`` formats declared by the column mapping, tried first (e.g. ``%m/%d/%Y %I:%M:%S %p``).

    Raises
    ------
    ValueError
        When the text is not a time.
    """
    text = (value or "").strip()
    if not text:
        return None
    candidate = text.replace("/", "-").replace("T", " ")
    parsed = _strptime(text, formats) or _isoformat(candidate) or _strptime(candidate, _FORMATS)
    if parsed is None:
        parsed = _excel_serial(text)
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def _strptime(text: str, formats: tuple[str, ...]) -> dt.datetime | None:
    """``text`` read by the first of ``formats`` that fits, or None."""
    for fmt in formats:
        with contextlib.suppress(ValueError):
            return dt.datetime.strptime(text, fmt)
    return None


def _isoformat(text: str) -> dt.datetime | None:
    with contextlib.suppress(ValueError):
        return dt.datetime.fromisoformat(text)
    return None


def _excel_serial(text: str) -> dt.datetime:
    """An Excel serial date (days since 1899-12-30, fraction = time of day), e.g. ``45321.5``."""
    try:
        serial = float(text)
    except ValueError:
        raise ValueError(f"not a time: {text!r}") from None
    if not EXCEL_SERIAL_RANGE[0] < serial < EXCEL_SERIAL_RANGE[1]:
        raise ValueError(f"not a time: {text!r}")
    return dt.datetime(1899, 12, 30) + dt.timedelta(days=serial)


@dataclass(frozen=True)
class TimeBounds:
    """The plausible span of a case time: from the region's earliest date to now plus a small skew."""

    earliest: dt.datetime
    latest: dt.datetime

    @classmethod
    def for_region(cls, region: Region, now: dt.datetime) -> TimeBounds:
        """Bounds from the region's ``[intake]`` config, as of ``now``."""
        earliest = dt.datetime.combine(region.intake.earliest_date, dt.time(), tzinfo=region.tz)
        return cls(earliest, now + region.intake.future_skew)

    def problem(self, stage: str, value: dt.datetime) -> str | None:
        """Why ``value`` cannot be the time of ``stage``, or None when it is plausible."""
        name = f"{stage.removesuffix('_at')} time ({STAGE_NAMES[stage]}时间)"
        if value < self.earliest:
            return f"{name} {value:%Y-%m-%d %H:%M:%S} is before {self.earliest:%Y-%m-%d} (the earliest plausible date)"
        if value > self.latest:
            return (
                f"{name} {value:%Y-%m-%d %H:%M:%S} is in the future (later than {self.latest:%Y-%m-%d %H:%M} "
                "= now plus the allowed clock skew)"
            )
        return None


@dataclass
class StageCheck:
    """Parsed stage times, the flags they raise, and a reason when the row cannot be a case."""

    times: dict[str, dt.datetime | None] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reject: str | None = None


def parse_stages(
    given: dict[str, str | None], tz: ZoneInfo, bounds: TimeBounds, formats: tuple[str, ...] = ()
) -> StageCheck:
    """Parse the stage times a row gives; out-of-bounds times and an unreadable received time reject the row.

    Only the stages in ``given`` are parsed (a stage the row does not give keeps its stored time);
    an unreadable later stage is flagged ``time_unparseable`` and left out of ``times``.
    """
    check = StageCheck()
    for stage in STAGES:
        if stage not in given:
            continue
        try:
            value = parse_time(given[stage], tz, formats)
        except ValueError:
            if stage == "received_at":
                check.reject = f"received time (上报时间) is not a time: {given[stage]!r}"
                return check
            _flag(check, "time_unparseable", f"{STAGE_NAMES[stage]}时间无法解析：{given[stage]}")
            continue
        if value is not None and (problem := bounds.problem(stage, value)):
            check.reject = problem
            return check
        check.times[stage] = value
    return check


def check_stages(times: dict[str, dt.datetime | None], status: str | None, now: dt.datetime) -> StageCheck:
    """Flags of a case's four stage times: present, in order, in the past; a reason when none was received."""
    check = StageCheck(times={s: times.get(s) for s in STAGES})
    if check.times["received_at"] is None:
        check.reject = "received time (上报时间) is missing"
        return check
    present = [(s, t) for s, t in check.times.items() if t is not None]
    for (first, earlier), (second, later) in itertools.pairwise(present):
        if later < earlier:
            _flag(check, "time_order", f"{STAGE_NAMES[second]}早于{STAGE_NAMES[first]}")
    for stage, value in present:
        if value > now + FUTURE_TOLERANCE:
            _flag(check, "time_future", f"{STAGE_NAMES[stage]}时间晚于当前")
    last = max(STAGES.index(s) for s, _ in present)
    missing = [STAGE_NAMES[s] for s in STAGES[:last] if check.times[s] is None]
    if any(word in (status or "") for word in CLOSED_STATUSES) and check.times["closed_at"] is None:
        missing.append("办结")
    if missing:
        _flag(check, "time_missing_stage", f"缺少{'、'.join(missing)}时间")
    return check


def _flag(check: StageCheck, flag: str, note: str) -> None:
    if flag not in check.flags:
        check.flags.append(flag)
    check.notes.append(note)


def durations_min(times: dict[str, dt.datetime | None]) -> dict[str, float]:
    """Response durations in minutes: dispatch, arrive, handle (arrived → closed) and total (received → closed)."""
    pairs = {
        "dispatch": ("received_at", "dispatched_at"),
        "arrive": ("dispatched_at", "arrived_at"),
        "handle": ("arrived_at", "closed_at"),
        "total": ("received_at", "closed_at"),
    }
    out: dict[str, float] = {}
    for name, (start, end) in pairs.items():
        a, b = times.get(start), times.get(end)
        if a is not None and b is not None and b >= a:
            out[name] = round((b - a).total_seconds() / 60, 1)
    return out


def calendar_warning(gaps: dict[int, int], region: Region) -> str | None:
    """The run warning for :func:`geo.time_limits.calendar_gaps` (None when every year is covered)."""
    if not gaps:
        return None
    years = ", ".join(f"{year} ({count} cases)" for year, count in gaps.items())
    first = next(iter(gaps))
    return (
        f"the working-day calendar has no public holidays for {years}: their due times count weekends only; "
        f"add [calendar.{first}] (the State Council notice) to {region.path.name} and reload the region "
        f"(python -m etl region) to recompute them"
    )


def parse_coordinate(lon: str | None, lat: str | None) -> tuple[float, float] | str | None:
    """(lon, lat) as floats, None when both are empty or zero, or ``"invalid"``."""
    lon, lat = (lon or "").strip(), (lat or "").strip()
    if not lon and not lat:
        return None
    try:
        x, y = float(lon), float(lat)
    except ValueError:
        return "invalid"
    if not (math.isfinite(x) and math.isfinite(y)):
        return "invalid"
    if x == 0 and y == 0:
        return None
    return x, y


def foreign_file_problem(foreign: int, located: int, region: Region) -> str | None:
    """Why a case file looks like another region's data, or None.

    Parameters
    ----------
    foreign
        Rows whose coordinates lie outside the region and whose address matches nothing in it.
    located
        Rows that give coordinates or an address at all.
    region
        Its ``[intake]`` holds the share and the least number of rows that stop a file.
    """
    intake = region.intake
    if located == 0 or foreign < intake.foreign_min_rows or foreign / located <= intake.foreign_max_share:
        return None
    return (
        f"{foreign} of {located} located rows ({foreign / located:.0%}) lie outside {region.name} or match no "
        f"address in it (more than {intake.foreign_max_share:.0%}): this does not look like {region.name}'s data"
    )
