"""The generic case model the county's demo facts plug into: hour and season profiles, location and party kinds.

A county's ``demo.toml`` names its case categories and gives each a location mix, an hour
profile, a season profile and a party kind from the names defined here (see
``etl/demo/config.py``); how those names turn into times and places is the generator's job.
"""

from __future__ import annotations

import numpy as np

# Relative weight of each hour of the day (0–23) by profile.
HOUR_PROFILES: dict[str, list[int]] = {
    "market": [0, 0, 0, 0, 1, 4, 9, 10, 8, 5, 3, 3, 3, 2, 2, 3, 5, 7, 7, 5, 2, 1, 0, 0],
    "day": [0, 0, 0, 0, 0, 0, 1, 3, 8, 10, 10, 7, 4, 5, 9, 10, 9, 6, 3, 1, 1, 0, 0, 0],
    "commute": [0, 0, 0, 0, 0, 0, 2, 9, 10, 5, 4, 6, 7, 4, 4, 5, 8, 10, 6, 2, 1, 0, 0, 0],
    "night": [5, 4, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 6, 8, 9, 8],
    "evening": [1, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 5, 5, 2, 2, 2, 3, 6, 9, 10, 8, 5, 3, 2],
    "afternoon": [0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 10, 9, 7, 5, 2, 1, 0, 0, 0],
}

SEASONS = ("flat", "harvest", "summer", "winter", "dry", "spring_autumn")

# Where a case happens: streets (urban grid, town centres, roads between towns), a kind of
# place (market, school …), a village, or an urban junction.
STREET_LOCATIONS = ("urban", "town", "main")
PLACE_LOCATIONS: dict[str, tuple[str, ...]] = {
    "market": ("市场",),
    "school": ("学校",),
    "hospital": ("医院",),
    "site": ("工地",),
    "compound": ("小区",),
    "public": ("车站", "公园", "广场", "商场", "景区"),
}
LOCATION_KINDS = (*STREET_LOCATIONS, *PLACE_LOCATIONS, "village", "cross")
PLACE_KINDS = tuple(kind for kinds in PLACE_LOCATIONS.values() for kind in kinds)

# Who a case is against: a person, a trader (mostly a firm) or a firm.
PARTY_KINDS = ("person", "trader", "firm")


def season_weight(kind: str, doy: np.ndarray) -> np.ndarray:
    """Relative weight of each day of the year (``doy``, 1–366) for a season profile in :data:`SEASONS`."""
    if kind == "harvest":  # early-rice / wheat harvest in late May–June, late rice October–November
        return 0.05 + 3.0 * np.exp(-0.5 * ((doy - 160) / 12) ** 2) + 4.0 * np.exp(-0.5 * ((doy - 305) / 14) ** 2)
    if kind == "summer":
        return 1 + 0.6 * np.exp(-0.5 * ((doy - 200) / 35) ** 2)
    if kind == "winter":
        return 1 + 0.6 * np.cos(2 * np.pi * (doy - 15) / 365)
    if kind == "dry":
        return 1 + 0.4 * np.cos(2 * np.pi * (doy - 30) / 365)
    if kind == "spring_autumn":
        return 1 + 0.3 * np.cos(4 * np.pi * (doy - 100) / 365)
    return np.ones_like(doy, dtype=float)
