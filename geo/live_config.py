"""Thresholds of the live picture and of the automatic warnings (``[live]`` and ``[warnings]`` of the region config)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class LiveThresholds:
    """When a device counts as online / stale / offline, and how long a trail the maps draw (minutes)."""

    online_min: float = 5.0  # last fix at most this old: online
    stale_min: float = 30.0  # at most this old: stale; older: offline
    trail_min: float = 15.0  # the trail behind each position
    offline_keep_h: float = 12.0  # offline devices older than this are not drawn


@dataclass(frozen=True)
class WarningRules:
    """Thresholds of the warning rules (see ``alerts/rules.py`` for what each rule does)."""

    shifts: tuple[tuple[int, int], ...] = ((7, 15), (15, 23))  # local hours [start, end) on duty
    arrive_near_share: float = 0.8  # warn from this share of [region] arrive_limit_min (over it: critical)
    due_near_hours: float = 24.0  # open case due within this many hours (past due: critical)
    hot_top: int = 10  # top of the under-patrolled ranking per squad counts as hot
    hot_days: int = 30  # window of the hotspot / ranking analyses
    hot_unpatrolled_hours: float = 4.0  # hot segment with no patrol visit for this long on shift
    stationary_min: float = 30.0  # officer within ``stationary_radius_m`` for this long …
    stationary_radius_m: float = 50.0
    station_radius_m: float = 300.0  # … farther than this from the squad's station, or outside its area
    silent_min: float = 20.0  # device with fixes today and none for this long during a shift
    route_start_grace_min: float = 30.0  # sanitation route not started this long after its scheduled start
    emerging_weeks: int = 12  # window of the emerging-hotspot analysis
    emerging_patterns: tuple[str, ...] = ("new_hot", "intensifying_hot")
    wall_overdue_hours: float = 24.0  # the wall sums up cases overdue longer than this per squad (alerts/wall.py)

    def on_shift(self, local: dt.datetime) -> bool:
        """True when the local time ``local`` falls in one of the shifts."""
        return any(a <= local.hour < b for a, b in self.shifts)

    def shift_start(self, local: dt.datetime) -> dt.datetime | None:
        """The start (local, aware) of the shift containing ``local``, or None off shift."""
        for a, b in self.shifts:
            if a <= local.hour < b:
                return local.replace(hour=a, minute=0, second=0, microsecond=0)
        return None


def read_live(section: dict, problems: list[str]) -> LiveThresholds:
    """The ``[live]`` section (defaults for what it omits); problems are collected, not raised."""
    values = _numbers(section, LiveThresholds, "live", problems)
    live = LiveThresholds(**values)
    if not 0 < live.online_min <= live.stale_min:
        problems.append("[live] needs 0 < online_min <= stale_min")
    return live


def read_warnings(section: dict, problems: list[str]) -> WarningRules:
    """The ``[warnings]`` section (defaults for what it omits); problems are collected, not raised."""
    rest = {k: v for k, v in section.items() if k not in ("shifts", "emerging_patterns")}
    values: dict = _numbers(rest, WarningRules, "warnings", problems)
    if "shifts" in section:
        try:
            shifts = tuple((int(a), int(b)) for a, b in section["shifts"])
            if any(not 0 <= a < b <= 24 for a, b in shifts):
                raise ValueError
            values["shifts"] = shifts
        except (TypeError, ValueError):
            problems.append("[warnings] shifts: a list of [start_hour, end_hour] pairs with 0 <= start < end <= 24")
    if "emerging_patterns" in section:
        values["emerging_patterns"] = tuple(str(p) for p in section["emerging_patterns"])
    return WarningRules(**values)


def _numbers(section: dict, kind: type, name: str, problems: list[str]) -> dict:
    known = {f.name: f for f in fields(kind)}
    values: dict = {}
    for key, value in section.items():
        spec = known.get(key)
        if spec is None:
            problems.append(f"[{name}] {key}: unknown setting, expected one of {sorted(known)}")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"[{name}] {key}: needs a number >= 0")
        else:
            values[key] = int(value) if spec.type == "int" else float(value)
    return values


__all__ = ["LiveThresholds", "WarningRules", "read_live", "read_warnings"]
