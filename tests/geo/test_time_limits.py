"""The one due-time rule (geo.time_limits): a day limit ends with the last instant of its last day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd

from geo.region import Region, TimeLimit
from geo.time_limits import END_OF_DAY, calendar_gaps, due_at, due_times

TZ = ZoneInfo("Asia/Shanghai")


def _frame(received: list[dt.datetime], procedure_type: str) -> pd.DataFrame:
    return pd.DataFrame({"received_at": received, "procedure_type": procedure_type, "category": None})


def test_a_day_limit_ends_with_the_last_instant_of_its_last_day(region: Region) -> None:
    # 简易程序: 1 working day. Received Wednesday 2025-03-05 → last day Thursday 03-06.
    received = dt.datetime(2025, 3, 5, 10, tzinfo=TZ)
    due = due_at(received, region.time_limit("简易程序"), region)
    assert due == dt.datetime.combine(dt.date(2025, 3, 6), END_OF_DAY, TZ)
    assert due.date() == dt.date(2025, 3, 6)  # shown as the last day, not the day after
    on_time = dt.datetime(2025, 3, 6, 23, 59, 59, 500000, tzinfo=TZ)
    late = dt.datetime(2025, 3, 7, 0, 0, 0, tzinfo=TZ)
    assert on_time <= due  # closed at 23:59:59.5 on the last day: on time (23:59:59 said late)
    assert not late <= due  # closed at 00:00:00 the next day: late (the next midnight said on time)


def test_an_hour_limit_ends_exactly_that_many_hours_later(region: Region) -> None:
    received = dt.datetime(2025, 3, 5, 22, 30, tzinfo=TZ)
    limit = TimeLimit(4, "hours")
    assert due_at(received, limit, region) == received + dt.timedelta(hours=4)


def test_the_vectorised_due_times_equal_the_scalar_ones(region: Region) -> None:
    received = [
        dt.datetime(2025, 3, 5, 10, tzinfo=TZ),
        dt.datetime(2025, 9, 30, 23, 30, tzinfo=TZ),  # before the National Day holiday
        dt.datetime(2025, 3, 5, 16, 0, tzinfo=dt.UTC),  # 00:00 local on 03-06
    ]
    for kind in ("简易程序", "投诉举报", "一般程序"):
        computed = due_times(_frame(received, kind), region)
        expected = [due_at(r, region.time_limit(kind), region) for r in received]
        assert [t.to_pydatetime() for t in computed] == expected
    missing = due_times(_frame([None], "简易程序"), region)
    assert missing.isna().all()


def test_calendar_gaps_count_each_case_in_every_year_it_spans(region: Region) -> None:
    uncovered = max(region.calendar.years) + 1
    spanning = dt.datetime(uncovered - 1, 12, 30, 10, tzinfo=TZ)  # 5 working days run into January
    inside = dt.datetime(uncovered, 3, 2, 10, tzinfo=TZ)
    frame = _frame([spanning, inside, inside], "投诉举报")
    assert calendar_gaps(frame, region) == {uncovered: 3}
    assert calendar_gaps(_frame([inside], "一般程序"), region) == {}  # calendar days never need the calendar


def test_due_times_of_a_mixed_frame_match_the_scalar_rule_case_by_case(region: Region) -> None:
    # Hour, calendar-day and working-day limits in one frame, a missing time, a shuffled index and a
    # microsecond column: each case gets exactly its own due time (computed per day and limit, looked up).
    kinds = ["简易程序", "投诉举报", "一般程序", "简易程序", "投诉举报", "一般程序"]
    received = [
        dt.datetime(2025, 3, 5, 10, tzinfo=TZ),
        dt.datetime(2025, 9, 30, 23, 30, 0, 123456, tzinfo=TZ),
        None,
        dt.datetime(2025, 9, 30, 23, 30, tzinfo=TZ),
        dt.datetime(2025, 3, 5, 16, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 5, 10, tzinfo=TZ),
    ]
    frame = pd.DataFrame(
        {"received_at": pd.Series(received, dtype="datetime64[us, UTC]"), "procedure_type": kinds, "category": None}
    ).set_axis([7, 3, 11, 0, 5, 2])
    computed = due_times(frame, region)
    assert list(computed.index) == list(frame.index)
    for (r, kind), value in zip(zip(received, kinds, strict=True), computed, strict=True):
        if r is None:
            assert pd.isna(value)
        else:
            assert value.to_pydatetime() == due_at(r, region.time_limit(kind), region)
