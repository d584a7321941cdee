"""Number and time formatting for the Chinese UI."""

from __future__ import annotations

import datetime as dt
import math

from geo.region import get_region


def number(value: float | int | None, digits: int = 0) -> str:
    """``12,345`` style, ``—`` for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def percent(share: float | None, digits: int = 1) -> str:
    """``97.5%`` from a share in 0..1, ``—`` for missing."""
    return "—" if share is None else f"{share * 100:.{digits}f}%"


def change(this: int, last: int) -> str:
    """Change against last year as ``↑12.5%`` / ``↓3.0%`` / ``持平``, ``—`` when last year is 0."""
    if not last:
        return "去年同期无数据" if this else "—"
    ratio = (this - last) / last
    if abs(ratio) < 0.0005:
        return "持平"
    return f"{'↑' if ratio > 0 else '↓'}{abs(ratio) * 100:.1f}%"


def minutes(value: float | None) -> str:
    """``35分钟`` / ``2.5小时`` / ``3.0天``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value < 120:
        return f"{value:.0f}分钟"
    if value < 48 * 60:
        return f"{value / 60:.1f}小时"
    return f"{value / 1440:.1f}天"


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp in the region's time zone, ``—`` for missing."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        return value.strftime(fmt)
    return value.astimezone(get_region().tz).strftime(fmt)


def now_local() -> dt.datetime:
    """The current time in the region's time zone."""
    return dt.datetime.now(get_region().tz)
