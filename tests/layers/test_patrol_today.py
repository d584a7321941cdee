"""A street chief's view of patrols today: streets by time since the last patrol, today as a partial day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers.base import LayerParams
from layers.patrol import selected_street, streets_by_recency
from layers.registry import render
from layers.stats.trend import elapsed_share

from .conftest import Seed, local

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_elapsed_share_marks_today_as_partial() -> None:
    now = dt.datetime(2026, 11, 30, 6, 0, tzinfo=SHANGHAI)
    days = [dt.date(2026, 11, 28), dt.date(2026, 11, 29), dt.date(2026, 11, 30), dt.date(2026, 12, 1)]
    assert elapsed_share(days, now) == pytest.approx([1.0, 1.0, 0.25, 0.0])
    with pytest.raises(ValueError, match="timezone-aware"):
        elapsed_share(days, dt.datetime(2026, 11, 30, 6, 0))


def test_todays_coverage_is_flagged_partial_not_zero(db: Connection, seed: Seed) -> None:
    a = seed.segment("A", [(119.80, 28.89), (119.81, 28.89)], name="解放街", squad_code="ZD01", length_m=1000.0)
    seed.chief("C1", "王街长", "ZD01", [a])
    tz = get_region().tz
    today = dt.datetime.now(tz).date()
    seed.visit(a, "patrol", "C1", local(*(today - dt.timedelta(days=1)).timetuple()[:3], 9, 0), 10)
    data = render("patrol_coverage", db, LayerParams(start=today - dt.timedelta(days=2), end=today)).data
    daily = data.attrs["daily_chief"].sort_values("day")
    assert list(daily["share"]) == pytest.approx([0.0, 1.0, 0.0])
    elapsed = daily["elapsed"].to_numpy()
    assert np.all(elapsed[:2] == 1.0) and 0.0 < elapsed[2] < 1.0  # today: under way, not a day of zero
    assert data.attrs["as_of"].date() == today


def test_streets_are_listed_longest_waiting_first(db: Connection, seed: Seed) -> None:
    names = {"A1": "解放街", "A2": "解放街", "B": "壶山路", "C": "温泉路", "D": "熟溪路"}
    ids = {
        key: seed.segment(key, [(119.80 + i * 0.01, 28.89), (119.805 + i * 0.01, 28.89)], name=name, squad_code="ZD01")
        for i, (key, name) in enumerate(names.items())
    }
    a3 = seed.segment("A3", [(119.90, 28.89), (119.91, 28.90)], name="解放街", squad_code="ZD01")
    seed.chief("C1", "王街长", "ZD01", [*ids.values(), a3])
    seed.visit(ids["A1"], "patrol", "C1", local(2025, 5, 7, 9, 0), 10)
    seed.visit(ids["A2"], "patrol", "C1", local(2025, 5, 7, 10, 0), 10)
    seed.visit(a3, "patrol", "C1", local(2025, 5, 2, 9, 0), 10)  # 解放街 waits since its oldest segment's patrol
    seed.visit(ids["B"], "patrol", "C1", local(2025, 5, 6, 9, 0), 10)
    seed.visit(ids["C"], "patrol", "C1", local(2025, 5, 7, 18, 0), 10)
    data = render("patrol_coverage", db, LayerParams(start=dt.date(2025, 5, 5), end=dt.date(2025, 5, 7))).data
    streets = streets_by_recency(data)
    assert list(streets["name"]) == ["熟溪路", "解放街", "壶山路", "温泉路"]  # never first, then the oldest
    row = streets.set_index("name").loc["解放街"]
    assert row["segments"] == 3 and row["never"] == 0
    assert row["last_visit"].tz_convert(SHANGHAI).date() == dt.date(2025, 5, 2)
    assert (row["xmin"], row["xmax"], row["ymax"]) == pytest.approx((119.80, 119.91, 28.90))
    assert streets.set_index("name").loc["熟溪路", "never"] == 1
    assert streets_by_recency(data.iloc[0:0]).empty
    extent, halo = selected_street(data, "解放街")
    assert extent == pytest.approx((119.80, 28.89, 119.91, 28.90))
    lons = np.asarray(halo.lon, dtype=float)
    assert sorted(lons[~np.isnan(lons)]) == pytest.approx([119.80, 119.805, 119.81, 119.815, 119.90, 119.91])
    assert selected_street(data, "无此街") is None
