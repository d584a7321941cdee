"""Response times: stage medians/P90, due times on the holiday calendar, 按期办结率 on cases due in the window."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy.engine import Connection

from geo.region import Region
from geo.time_limits import due_at
from layers.base import LayerParams, Scope
from layers.registry import get_layer, render
from layers.response_times import case_times

from .conftest import Seed, local

AS_OF = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
HOLIDAY_WEEK = LayerParams(start=dt.date(2024, 10, 1), end=dt.date(2024, 10, 8), options={"as_of": AS_OF})


def _squads(seed: Seed) -> None:
    seed.squad("ZD01", "白洋中队")
    seed.squad("ZD02", "壶山中队")
    seed.jurisdiction("ZD01", (119.80, 28.88, 119.82, 28.90))
    seed.jurisdiction("ZD02", (119.82, 28.88, 119.84, 28.90))


def test_closed_the_day_before_a_holiday(db: Connection, seed: Seed) -> None:
    _squads(seed)
    simple = {"procedure_type": "简易程序", "squad_code": "ZD01"}  # 1 working day
    # Friday 09-27: the next working day is Sunday 09-29 (make-up day), so closing Monday 09-30 is late.
    late = seed.case(119.81, 28.89, local(2024, 9, 27, 10), closed_at=local(2024, 9, 30, 10), **simple)
    # Monday 09-30, the day before the National Day holiday: closed that day → on time.
    same_day = seed.case(119.81, 28.89, local(2024, 9, 30, 9), closed_at=local(2024, 9, 30, 17), **simple)
    # Received 09-30 afternoon: the next working day is 10-08 after the holiday → closed 10-08 is on time.
    after = seed.case(119.81, 28.89, local(2024, 9, 30, 15), closed_at=local(2024, 10, 8, 9), **simple)
    # Received during the holiday, never closed: due 10-08 → late.
    open_ = seed.case(119.81, 28.89, local(2024, 10, 5, 11), **simple)
    # A general-procedure case received in the window is due in 90 days: not in this window's denominator.
    general = seed.case(119.81, 28.89, local(2024, 10, 2, 11), procedure_type="一般程序", squad_code="ZD01")
    frame = case_times(db, HOLIDAY_WEEK, AS_OF).set_index("id")
    assert frame.loc[late, "due"] == pd.Timestamp(local(2024, 9, 29, 23, 59, 59, 999999))
    assert not frame.loc[late, "on_time"] and not frame.loc[late, "due_in_window"]
    assert frame.loc[same_day, "due"] == pd.Timestamp(local(2024, 10, 8, 23, 59, 59, 999999))
    assert frame.loc[same_day, "on_time"] and frame.loc[after, "on_time"]
    assert frame.loc[open_, "due"] == pd.Timestamp(local(2024, 10, 8, 23, 59, 59, 999999))
    assert not frame.loc[general, "due_in_window"]
    # Working days taken: 09-30 → 10-08 is one working day; the general case has a calendar limit.
    assert frame.loc[after, "working_days"] == 1 and frame.loc[same_day, "working_days"] == 0
    assert frame.loc[late, "working_days"] == 2  # 09-29 (make-up day) and 09-30
    assert pd.isna(frame.loc[general, "working_days"])
    result = render("response_times", db, HOLIDAY_WEEK)
    # Denominator: cases due 10-01…10-08 (three), not the cases received in the window (two).
    assert result.summary["cases_due"] == 3
    assert result.summary["closed_on_time"] == 2
    assert result.summary["on_time_rate"] == pytest.approx(2 / 3, abs=1e-4)
    row = result.data.set_index("squad_code").loc["ZD01"]
    assert row["cases"] == 2 and row["due"] == 3


def test_closed_in_the_last_second_of_the_last_day_is_on_time(db: Connection, seed: Seed, region: Region) -> None:
    """Pins the one due-time convention: stored (as the case job writes it) or computed, the same answer."""
    _squads(seed)
    simple = {"procedure_type": "简易程序", "squad_code": "ZD01"}  # 1 working day: Wed 03-05 → Thu 03-06
    received = local(2025, 3, 5, 10)
    stored = due_at(received, region.time_limit("简易程序"), region)
    last_second = local(2025, 3, 6, 23, 59, 59, 500000)
    next_midnight = local(2025, 3, 7, 0, 0, 0)
    cases = {
        (due, closed): seed.case(119.81, 28.89, received, closed_at=closed, due_at=due, **simple)
        for due in (stored, None)
        for closed in (last_second, next_midnight)
    }
    window = LayerParams(start=dt.date(2025, 3, 6), end=dt.date(2025, 3, 6), options={"as_of": AS_OF})
    frame = case_times(db, window, AS_OF).set_index("id")
    for (due, closed), case_id in cases.items():
        assert frame.loc[case_id, "due_in_window"], (due, closed)
        assert frame.loc[case_id, "on_time"] == (closed == last_second), (due, closed)
    assert render("response_times", db, window).summary["closed_on_time"] == 2


def test_stage_medians_and_p90(db: Connection, seed: Seed) -> None:
    _squads(seed)
    for i, minutes in enumerate([10, 20, 30, 40, 100]):
        t0 = local(2025, 3, 3, 9)
        seed.case(
            119.81,
            28.89,
            t0,
            squad_code="ZD01",
            category="占道经营",
            dispatched_at=t0 + dt.timedelta(minutes=minutes),
            arrived_at=t0 + dt.timedelta(minutes=minutes + 30),
            closed_at=t0 + dt.timedelta(hours=4 + i),
        )
    seed.case(119.83, 28.89, local(2025, 3, 3, 9), squad_code="ZD02", category="违法建设")
    params = LayerParams(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31), metric="dispatch_median")
    result = render("response_times", db, params)
    squad = result.data.set_index("squad_code").loc["ZD01"]
    assert squad["dispatch_median"] == pytest.approx(0.5)
    assert squad["dispatch_p90"] == pytest.approx((40 + 0.6 * 60) / 60)  # linear interpolation 40 → 100
    assert squad["arrive_median"] == pytest.approx(0.5)
    assert squad["total_median"] == pytest.approx(6.0)
    categories = pd.DataFrame(result.summary["by_category"]).set_index("category")
    assert categories.loc["占道经营", "cases"] == 5 and categories.loc["违法建设", "cases"] == 1
    assert result.traces[0].type == "choroplethmap"
    with pytest.raises(ValueError, match="metric"):
        get_layer("response_times").build(result.data, LayerParams(metric="nonsense"))


def test_scope_restricts_squads(db: Connection, seed: Seed) -> None:
    _squads(seed)
    seed.case(119.81, 28.89, local(2025, 3, 3, 9), squad_code="ZD01")
    seed.case(119.83, 28.89, local(2025, 3, 3, 9), squad_code="ZD02")
    params = LayerParams(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31), scope=Scope(squads=("ZD02",)))
    result = render("response_times", db, params)
    assert list(result.data["squad_code"]) == ["ZD02"]
    assert [r["squad_code"] for r in result.summary["by_squad"]] == ["ZD02"]


def test_a_window_counted_in_a_year_the_calendar_lacks_carries_a_note(
    db: Connection, seed: Seed, region_lacking
) -> None:
    _squads(seed)
    complaint = {"procedure_type": "投诉举报", "squad_code": "ZD01"}  # 5 working days
    seed.case(119.81, 28.89, local(2024, 12, 30, 10), **complaint)  # falls due in January 2025
    seed.case(119.81, 28.89, local(2024, 12, 2, 10), procedure_type="一般程序", squad_code="ZD01")
    window = LayerParams(start=dt.date(2024, 12, 1), end=dt.date(2024, 12, 31), options={"as_of": AS_OF})
    listed = render("response_times", db, window)
    assert listed.summary["calendar_note"] is None and not any("尚未录入" in n for n in listed.notes)

    region_lacking(2025)
    lacking = render("response_times", db, window)
    note = "2025年节假日安排尚未录入，到期时间按周末计算"
    assert lacking.summary["calendar_note"] == note and note in lacking.notes
    # Calendar-day limits never touch the calendar: without the complaint there is nothing to say.
    general_only = LayerParams(
        start=dt.date(2024, 12, 1), end=dt.date(2024, 12, 31), procedure_types=("一般程序",), options={"as_of": AS_OF}
    )
    assert render("response_times", db, general_only).summary["calendar_note"] is None


def test_stored_due_times_are_kept_and_only_missing_ones_computed() -> None:
    import datetime as dt

    import pandas as pd

    from geo.region import get_region
    from geo.time_limits import due_at
    from layers.stats.response_time import due_times

    region = get_region()
    received = pd.Series([dt.datetime(2025, 3, 5, 2, tzinfo=dt.UTC)] * 2, dtype="datetime64[us, UTC]")
    stored = pd.Series([dt.datetime(2025, 3, 20, tzinfo=dt.UTC), None], dtype="datetime64[us, UTC]")
    frame = pd.DataFrame({"received_at": received, "due_at": stored, "procedure_type": "简易程序", "category": None})
    due = due_times(frame, region)
    assert due.iloc[0] == pd.Timestamp("2025-03-20", tz="UTC")  # as stored, not recomputed
    assert due.iloc[1].to_pydatetime() == due_at(
        received.iloc[1].to_pydatetime(), region.time_limit("简易程序"), region
    )
