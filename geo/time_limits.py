"""When a case is due: its time limit from the region's config, its due time, and years the calendar lacks.

The one home of the due-time rule, used by the case job, ``etl due-times``, the response-time
layer and whatever raises warnings on overdue cases. The convention:

- a limit in hours ends exactly that many hours after the case was received;
- a limit in calendar or working days ends with the last day: at :data:`END_OF_DAY`
  (23:59:59.999999 local time, the last instant PostgreSQL and Python can store), counted from
  the local day the case was received (that day itself not counted); working days skip weekends
  and the region's public holidays and count its make-up working days (调休);
- a case is on time when it was closed at or before its due time (``closed_at <= due_at``).

So a case closed at 23:59:59.5 on its last day is on time and one closed at 00:00:00 the next
day is late, and a due time shows the date of its last day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from geo.region import Region, TimeLimit

END_OF_DAY = dt.time.max  # 23:59:59.999999: the last instant of a day, closed_at <= due_at is on time


def awaiting_arrival_sql(alias: str, now: str = ":now") -> str:
    """SQL condition: case ``alias`` was received in the day before ``now`` and has neither arrived
    (到场) nor closed: a case still awaiting arrival. Compared with ``[region] arrive_limit_min`` by the
    live 超时未到场 count (:func:`layers.queries.kpis.live_figures`) and the arrival warning
    (``alerts/rules.py``); ``now`` is a bind (``:now``) or a SQL expression."""
    return (
        f"{alias}.arrived_at IS NULL AND {alias}.closed_at IS NULL"
        f" AND {alias}.received_at > {now} - interval '1 day' AND {alias}.received_at <= {now}"
    )


def limit_key(procedure_type: str | None, category: str | None, region: Region) -> str | None:
    """Which configured time limit applies to a case: its procedure type, else its category, else None (default)."""
    return next((k for k in (procedure_type, category) if k in region.time_limits), None)


def case_time_limit(values: Mapping[str, Any], region: Region) -> TimeLimit:
    """The time limit of a case (``values`` has ``procedure_type`` and ``category``): see :func:`limit_key`."""
    return region.time_limit(limit_key(values.get("procedure_type"), values.get("category"), region))


def last_day(day: dt.date, limit: TimeLimit, region: Region) -> dt.date:
    """The last day of a limit in calendar or working days for a case received on the local date ``day``."""
    days = math.ceil(limit.value)
    if limit.unit == "working_days":
        return region.calendar.add_working_days(day, days)
    return day + dt.timedelta(days=days)


def due_at(received: dt.datetime, limit: TimeLimit, region: Region) -> dt.datetime:
    """When a case received at ``received`` (aware) is due under ``limit`` (see the module's convention)."""
    if limit.unit == "hours":
        return received + dt.timedelta(hours=limit.value)
    day = last_day(received.astimezone(region.tz).date(), limit, region)
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=region.tz)


def due_times(frame: pd.DataFrame, region: Region) -> pd.Series:
    """:func:`due_at` of every case of ``frame`` (``received_at``, ``procedure_type``, ``category``), in UTC.

    Computed once per distinct (local received day, limit), so it stays fast for hundreds of
    thousands of cases; NaT where the received time is missing.
    """
    received = pd.to_datetime(frame["received_at"], utc=True)
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    valid = received.notna().to_numpy()
    if not valid.any():
        return out
    local_day = received[valid].dt.tz_convert(region.tz).dt.tz_localize(None).dt.normalize()
    keys = pd.DataFrame({"day": local_day.to_numpy(), "key": limit_keys(frame, region)[valid].to_numpy()})
    limits = {key: region.time_limit(key) for key in keys["key"].unique()}
    hours = keys["key"].map({k: lim.value if lim.unit == "hours" else np.nan for k, lim in limits.items()})
    by_day = hours.isna().to_numpy()
    # In int64 nanoseconds since the epoch (UTC): whatever unit the column came in, no object arrays.
    due = received[valid].dt.as_unit("ns").astype("int64").to_numpy().copy()
    due[~by_day] += np.round(hours.to_numpy()[~by_day] * 3.6e12).astype("int64")
    if by_day.any():  # one computation per distinct (local day, limit), then looked up for every case
        pairs = keys[by_day].drop_duplicates()
        pairs["due"] = [
            pd.Timestamp(dt.datetime.combine(last_day(day.date(), limits[key], region), END_OF_DAY, region.tz)).value
            for day, key in zip(pairs["day"], pairs["key"], strict=True)
        ]
        due[by_day] = keys[by_day].merge(pairs, on=["day", "key"], how="left")["due"].to_numpy()
    out[valid] = pd.to_datetime(due, utc=True)
    return out


def limit_keys(frame: pd.DataFrame, region: Region) -> pd.Series:
    """:func:`limit_key` of every case of ``frame`` (``"default"`` where none is configured)."""
    ptype = frame["procedure_type"]
    return ptype.where(ptype.isin(list(region.time_limits)), frame["category"]).where(
        lambda keys: keys.isin(list(region.time_limits)), "default"
    )


def limit_units(frame: pd.DataFrame, region: Region) -> pd.Series:
    """The unit (``hours``, ``calendar_days``, ``working_days``) of every case's time limit."""
    keys = limit_keys(frame, region)
    return keys.map({k: region.time_limit(k).unit for k in keys.unique()})


def calendar_gaps(frame: pd.DataFrame, region: Region, due: pd.Series | None = None) -> dict[int, int]:
    """Cases whose due time was counted in working days of a year the calendar does not list, per year.

    Parameters
    ----------
    frame
        ``received_at``, ``procedure_type`` and ``category`` of each case.
    region
        Its time limits and working-day calendar.
    due
        The due time of each case (e.g. as stored); computed by :func:`due_times` when not given.

    Returns
    -------
    dict
        Year → number of cases counted in it (a case spanning New Year counts in both years).
    """
    if not len(frame):
        return {}
    received = pd.to_datetime(frame["received_at"], utc=True)
    due = pd.to_datetime(due if due is not None else due_times(frame, region), utc=True)
    working = (limit_units(frame, region) == "working_days").to_numpy()
    spans = pd.DataFrame(
        {"first": received.dt.tz_convert(region.tz).dt.year, "last": due.dt.tz_convert(region.tz).dt.year}
    )[working & received.notna().to_numpy() & due.notna().to_numpy()]
    gaps: dict[int, int] = {}
    for (first, last), count in spans.astype(int).value_counts().items():
        for year in region.calendar.uncovered_years(dt.date(first, 1, 1), dt.date(last, 1, 1)):
            gaps[year] = gaps.get(year, 0) + int(count)
    return dict(sorted(gaps.items()))


def lookback_days(region: Region) -> int:
    """Days before a window's start in which a case can be received and still fall due in the window."""
    days = 1
    for limit in region.time_limits.values():
        if limit.unit == "calendar_days":
            days = max(days, int(np.ceil(limit.value)))
        elif limit.unit == "working_days":
            days = max(days, int(np.ceil(limit.value * 7 / 5)) + 14)  # + the longest holiday run
        else:
            days = max(days, int(np.ceil(limit.value / 24)))
    return days + 1
