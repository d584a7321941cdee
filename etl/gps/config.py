"""Settings of the GPS pipeline: cleaning thresholds and matching tolerances, from ``source.toml`` or defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from geo.errors import ConfigError


@dataclass(frozen=True)
class GpsConfig:
    """Thresholds of cleaning, trip splitting and map-matching (all in metres and seconds).

    Any field can be set in a ``source.toml`` next to the files (e.g. ``max_speed_mps = 30``).
    """

    max_speed_mps: float = 40.0  # a fix reached faster than this from both neighbours is a jump
    drift_radius_m: float = 15.0  # fixes within this radius while stopped are one stop
    drift_window_s: float = 60.0  # how long the subject must stay within the radius to count as stopped
    trip_gap_s: float = 300.0  # a gap longer than this starts a new trip (unless standing at one place)
    match_tolerance_m: float = 30.0  # farthest a fix may be from its segment
    heading_weight_m: float = 20.0  # penalty (metres) for a segment perpendicular to the direction of travel
    heading_min_move_m: float = 8.0  # movement between neighbours needed to trust the direction of travel
    region_margin_deg: float = 0.05  # fixes farther than this outside the region's bounding box are rejected


def config_from(settings: dict[str, Any], base: GpsConfig | None = None) -> GpsConfig:
    """``base`` (or the defaults) with the numeric fields named in ``settings`` replaced.

    Raises
    ------
    ConfigError
        When a threshold is not a positive number.
    """
    base = base or GpsConfig()
    known = {f.name for f in fields(GpsConfig)}
    changes: dict[str, float] = {}
    for key, value in settings.items():
        if key not in known:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{settings.get('_file', 'source.toml')}: {key} must be a positive number, not {value!r}")
        changes[key] = float(value)
    return replace(base, **changes)
