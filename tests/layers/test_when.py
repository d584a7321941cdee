"""Cases by local weekday and hour: for a squad's filters and for one segment, within the scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Connection

from layers.base import LayerParams, Scope
from layers.queries.case_records import case_rows
from layers.queries.when import hour_weekday

from .conftest import Seed, local


def test_cases_by_local_weekday_and_hour(db: Connection, seed: Seed) -> None:
    s1 = seed.segment("s1", [(119.80, 28.89), (119.81, 28.89)], squad_code="ZD01")
    monday_9 = local(2025, 3, 3, 9, 30)  # 2025-03-03 is a Monday
    seed.case(119.805, 28.89, monday_9, squad_code="ZD01", segment_id=s1)
    seed.case(119.805, 28.89, monday_9 + dt.timedelta(minutes=10), squad_code="ZD01", segment_id=s1)
    # 23:30 UTC on Saturday is 07:30 on Sunday in Wuyi: counted in local time
    seed.case(119.805, 28.89, dt.datetime(2025, 3, 8, 23, 30, tzinfo=dt.UTC), squad_code="ZD01")
    seed.case(119.825, 28.89, monday_9, squad_code="ZD02")
    window = LayerParams(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 9))

    table = hour_weekday(db, window)
    assert table.shape == (7, 24) and list(table.index) == list(range(1, 8)) and list(table.columns) == list(range(24))
    assert table.loc[1, 9] == 3 and table.loc[7, 7] == 1 and int(table.to_numpy().sum()) == 4

    zd01 = hour_weekday(db, LayerParams(start=window.start, end=window.end, squads=("ZD01",)))
    assert zd01.loc[1, 9] == 2 and int(zd01.to_numpy().sum()) == 3
    segment = hour_weekday(db, window, segment_id=s1)
    assert int(segment.to_numpy().sum()) == len(case_rows(db, window, segment_id=s1)) == 2  # as the drill-down
    assert segment.loc[1, 9] == 2
    # a squad's scope counts its own cases only; an empty answer is all zeros, not an error
    assert int(hour_weekday(db, LayerParams(scope=Scope(squads=("ZD02",)))).to_numpy().sum()) == 1
    empty = hour_weekday(db, LayerParams(start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2)))
    assert empty.shape == (7, 24) and int(empty.to_numpy().sum()) == 0
