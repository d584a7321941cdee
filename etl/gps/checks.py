"""Checks of one fix that need no other fix: inside the region, at a plausible time (file loads and the live API)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from etl.jobs._case_checks import TimeBounds
from geo.region import Region

NS = 1_000_000_000


def outside_region(lon: np.ndarray, lat: np.ndarray, region: Region, margin_deg: float) -> tuple[np.ndarray, list[str]]:
    """Fixes (WGS-84) farther than ``margin_deg`` outside the region's bounding box, with the reason of each.

    Returns
    -------
    mask, reasons
        True where the fix is outside; one reason per outside fix, in order.
    """
    west, south, east, north = region.outline.bounds
    mask = (
        (lon < west - margin_deg) | (lon > east + margin_deg) | (lat < south - margin_deg) | (lat > north + margin_deg)
    )
    mask |= ~(np.isfinite(lon) & np.isfinite(lat))
    reasons = [
        f"fix outside the region ({a:.5f}, {b:.5f} in WGS-84)" for a, b in zip(lon[mask], lat[mask], strict=True)
    ]
    return mask, reasons


def implausible_time(ts_ns: np.ndarray, region: Region, now: dt.datetime | None = None) -> tuple[np.ndarray, list[str]]:
    """Fixes before the region's earliest date or later than now plus ``[intake] future_skew_hours``.

    The same bounds as the case times (:class:`etl.jobs._case_checks.TimeBounds`).

    Returns
    -------
    mask, reasons
        True where the time is implausible; one reason per such fix, in order.
    """
    bounds = TimeBounds.for_region(region, now or dt.datetime.now(dt.UTC))
    earliest = int(bounds.earliest.timestamp() * NS)
    latest = int(bounds.latest.timestamp() * NS)
    early, late = ts_ns < earliest, ts_ns > latest
    mask = early | late
    reasons = []
    latest = f"{bounds.latest.astimezone(region.tz):%Y-%m-%d %H:%M}"
    for value, is_late in zip(ts_ns[mask], late[mask], strict=True):
        when = f"{dt.datetime.fromtimestamp(value / NS, dt.UTC).astimezone(region.tz):%Y-%m-%d %H:%M:%S}"
        if is_late:
            reasons.append(f"fix time {when} is in the future (later than {latest} = now plus the allowed clock skew)")
        else:
            reasons.append(f"fix time {when} is before {bounds.earliest:%Y-%m-%d} (the earliest plausible date)")
    return mask, reasons
