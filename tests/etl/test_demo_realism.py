"""The demo's planted realism, loaded through the real ETL: sanitation crews miss streets and start
late, chiefs skip their hot segments, a reduced set stays on duty through every shift."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from alerts.rules import hot_segments, route_not_started
from etl.demo import load_demo
from etl.demo.simulate import gps_items
from geo.db import get_engine
from geo.region import Region
from layers.base import LayerParams, Scope
from layers.registry import render
from tests.conftest import migrated_schema

END = dt.date(2026, 11, 27)  # the session demo's last day (tests/conftest.py demo_dir)


@pytest.fixture(scope="module")
def demo_engine(test_url: URL, demo_dir: Path) -> Iterator[Engine]:
    """A schema of its own with the small demo loaded through the ETL (read-only for these tests)."""
    with migrated_schema(test_url, "t_realism") as url:
        engine = get_engine(url)
        load_demo(engine, demo_dir)
        yield engine


def _ids(engine: Engine, keys: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT segment_key, id FROM street_segments WHERE segment_key = ANY(:keys)"), {"keys": keys}
        ).all()
    return {key: int(i) for key, i in rows}


def test_sanitation_layer_shows_routes_missing_streets(demo_engine: Engine, demo_dir: Path) -> None:
    shifts = pd.read_csv(demo_dir / "truth/route_shifts.csv", dtype={"missed_ids": str})
    driven = shifts[shifts["driven"]]
    assert (driven["missed"] > 0).any() and (driven["missed"] == 0).any()  # some crews diligent, some not
    with demo_engine.connect() as conn:
        result = render("sanitation", conn, LayerParams(start=END, end=END, scope=Scope.everything()))
    by_route = pd.DataFrame(result.summary["by_route"]).set_index("route_code")
    shares = by_route.loc[sorted(set(driven["route_code"])), "share"]
    assert shares.min() < 0.9  # the old generator: every route 100 % done
    assert shares.max() - shares.min() > 0.2  # contrast between routes
    assert result.summary["planned_share"] < 0.95
    # the segments the truth says were missed by every shift of the day, and on no other route
    # driven that day, show as missed on the layer (a vehicle turning at a junction may touch a few)
    routes = pd.read_csv(demo_dir / "truth/routes.csv")
    plan = {r.route_code: set(r.segment_ids.split(";")) for r in routes.itertuples()}
    missed_all: set[str] = set()
    for code, mine in driven.groupby("route_code"):
        missed = set.intersection(*(set(str(m).split(";")) for m in mine["missed_ids"].fillna(""))) - {""}
        others = set().union(*(plan[c] for c in set(driven["route_code"]) - {code}))
        missed_all |= missed - others
    assert len(missed_all) >= 10
    status = result.data.set_index("segment_id")["status"]
    ids = _ids(demo_engine, sorted(missed_all))
    layer_missed = np.mean([status.get(i) == "missed" for i in ids.values()])
    assert layer_missed > 0.75, layer_missed


def test_late_route_raises_route_not_started_until_it_starts(
    demo_engine: Engine, demo_dir: Path, region: Region
) -> None:
    shifts = pd.read_csv(demo_dir / "truth/route_shifts.csv")
    grace = region.warnings.route_start_grace_min
    late = shifts[shifts["late_min"] > grace + 5]
    assert len(late), "no late start planted"
    routes = pd.read_csv(demo_dir / "truth/routes.csv")
    planned = {r.route_code: set(r.segment_ids.split(";")) for r in routes.itertuples()}
    checked = 0
    for row in late.itertuples():
        same = shifts[(shifts["date"] == row.date) & (shifts["scheduled_start"] == row.scheduled_start)]
        punctual = set(same.loc[same["late_min"] < 10, "route_code"])
        if any(
            planned[row.route_code] & planned[other]
            for other in set(same.loc[same["driven"], "route_code"]) - {row.route_code}
        ):
            continue  # another crew swept part of this route in time: the rule rightly sees work started
        checked += 1
        day = dt.date.fromisoformat(row.date)
        h, m = map(int, row.scheduled_start.split(":"))
        scheduled = dt.datetime.combine(day, dt.time(h, m), tzinfo=region.tz)
        waiting = scheduled + dt.timedelta(minutes=(grace + row.late_min) / 2)
        started = scheduled + dt.timedelta(minutes=row.late_min + 20)
        with demo_engine.connect() as conn:
            raised = {f.subject_id for f in route_not_started(conn, waiting, region)}
            after = {f.subject_id for f in route_not_started(conn, started, region)}
        assert row.route_code in raised
        assert row.route_code not in after  # resolved once the vehicle sweeps
        assert not raised & punctual  # the crews that started on time raise nothing
    assert checked, "no late route to check"
    not_driven = shifts[~shifts["driven"]]
    assert len(not_driven)  # a shift not driven at all


def test_planted_hot_skips_top_the_underpatrolled_ranking(demo_engine: Engine, demo_dir: Path, region: Region) -> None:
    skips = pd.read_csv(demo_dir / "truth/patrol_skips.csv")
    assert len(skips)
    # the last day a skipper walked at random (on the plan days only the duty rota does)
    skip_day = dt.date.fromisoformat(max(skips["date"]))
    ids = _ids(demo_engine, sorted(set(skips["segment_id"])))
    with demo_engine.connect() as conn:
        hot = set(hot_segments(conn, END, region)["segment_id"])
        walked = conn.execute(
            text(
                """SELECT count(*) FROM segment_visits v
                   WHERE v.subject_kind = 'patrol' AND v.segment_id = ANY(:ids)
                     AND v.subject_id = ANY(:chiefs) AND (v.entered_at AT TIME ZONE 'Asia/Shanghai')::date = :day"""
            ),
            {
                "ids": list(ids.values()),
                "chiefs": sorted(set(skips.loc[skips["date"] == skip_day.isoformat(), "chief_code"])),
                "day": skip_day,
            },
        ).scalar_one()
    assert set(ids.values()) <= hot  # each planted skipped segment is hot: Gi* 99 % or top of its squad's ranking
    assert walked <= 1  # the chiefs kept off them on the skip day (a junction fix may touch one)
    days = pd.read_csv(demo_dir / "truth/patrol_days.csv")
    for row in skips.itertuples():
        day = days[(days["chief_code"] == row.chief_code) & (days["date"] == row.date)]
        assert all(row.segment_id not in str(s).split(";") for s in day["segment_ids"])


def test_a_patrol_device_reports_every_minute_of_the_shifts(demo_dir: Path, region: Region) -> None:
    day, items = gps_items(demo_dir / "raw/gps", region)
    assert day == END
    seconds = np.sort([i.second for i in items if i.body["kind"] == "patrol"])
    first = region.warnings.shifts[0][0] * 3600
    minutes = np.arange(first, 22 * 3600, 60)
    following = np.searchsorted(seconds, minutes)
    waits = seconds[np.minimum(following, len(seconds) - 1)] - minutes
    assert waits.max() <= 60, f"no patrol fix for {waits.max():.0f} s after {minutes[waits.argmax()] / 3600:.2f} h"
    rota = pd.read_csv(demo_dir / "truth/duty_rota.csv")
    assert set(rota["date"]) >= {END.isoformat()} and rota.groupby(["date", "shift"]).size().min() >= 2
