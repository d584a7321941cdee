"""Response-time arithmetic: stage durations, due times from the region's time limits and calendar, on-time shares."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pandas as pd

from geo.region import Region, TimeLimit

STAGES = {
    "dispatch": ("received_at", "dispatched_at", "受理→派遣"),
    "arrive": ("dispatched_at", "arrived_at", "派遣→到场"),
    "close": ("arrived_at", "closed_at", "到场→办结"),
    "total": ("received_at", "closed_at", "受理→办结"),
}
STATS = {"median": "中位数", "p90": "P90"}


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


def due_times(frame: pd.DataFrame, region: Region) -> pd.Series:
    """Due time of each case: ``due_at`` when the export has one, else from received time and the time limit.

    Limits in calendar or working days end at local midnight after the last day; working days skip
    weekends and the region's public holidays and count its make-up working days (调休).
    """
    tz = region.tz
    calendar = region.calendar

    @cache
    def day_end(day: dt.date, limit: TimeLimit) -> dt.datetime:
        if limit.unit == "working_days":
            last = calendar.add_working_days(day, int(np.ceil(limit.value)))
        else:
            last = day + dt.timedelta(days=int(np.ceil(limit.value)))
        return dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)

    received = pd.to_datetime(frame["received_at"], utc=True)
    local_days = received.dt.tz_convert(tz).dt.date
    out = []
    for due, rec, day, ptype, category in zip(
        frame["due_at"], received, local_days, frame["procedure_type"], frame["category"], strict=True
    ):
        if due is not None and not pd.isna(due):
            out.append(pd.Timestamp(due))
        elif pd.isna(rec):
            out.append(pd.NaT)
        else:
            limit = region.time_limit(ptype if ptype in region.time_limits else category)
            if limit.unit == "hours":
                out.append(rec + pd.Timedelta(hours=limit.value))
            else:
                out.append(pd.Timestamp(day_end(day, limit)))
    return pd.to_datetime(pd.Series(out, index=frame.index), utc=True)


def stage_hours(frame: pd.DataFrame) -> pd.DataFrame:
    """Hours of each stage per case (NaN where a time is missing or the order is impossible)."""
    out = pd.DataFrame(index=frame.index)
    for stage, (a, b, _) in STAGES.items():
        hours = (pd.to_datetime(frame[b], utc=True) - pd.to_datetime(frame[a], utc=True)).dt.total_seconds() / 3600
        out[stage] = hours.where(hours >= 0)
    return out


def summarise(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group: cases received, median and P90 hours of each stage, cases due, on time, on-time share.

    ``frame`` needs the stage columns, ``received_in_window``, ``due_in_window``, ``decided`` and ``on_time``.
    """
    received = frame[frame["received_in_window"]]
    grouped = received.groupby(by)
    table = grouped.size().rename("cases").to_frame()
    for stage in STAGES:
        table[f"{stage}_median"] = grouped[stage].median()
        table[f"{stage}_p90"] = grouped[stage].quantile(0.9)
    due = frame[frame["due_in_window"] & frame["decided"]]
    table = table.join(due.groupby(by).size().rename("due"), how="outer")
    table = table.join(due[due["on_time"]].groupby(by).size().rename("on_time"), how="outer")
    table[["cases", "due", "on_time"]] = table[["cases", "due", "on_time"]].fillna(0).astype(int)
    table["on_time_rate"] = np.where(
        table["due"] > 0, table["on_time"] / table["due"].where(table["due"] > 0, 1), np.nan
    )
    return table.reset_index()
