"""The demo's approved plans and chiefs who follow them in part (etl/demo/planned_patrols.py), on the loaded demo."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from etl.demo.planned_patrols import (
    FOLDER,
    TRUTH_FILE,
    duty_rota,
    ensure_planned_patrols,
    leader_of,
    live_folder,
    live_start,
)
from etl.demo.simulate import gps_items
from geo.db import get_engine
from geo.region import get_region
from plans.adherence import adherence, stop_states
from plans.store import approved_plans, chief_task


@pytest.fixture(scope="module")
def plan_day(plans_demo_dir: Path) -> dt.date:
    """The last day of the demo: the leader's "yesterday", whose patrols followed approved plans."""
    meta = json.loads((plans_demo_dir / "truth/generation.json").read_text(encoding="utf-8"))
    assert meta["plan_days"] >= 1
    return dt.date.fromisoformat(meta["end"])


@pytest.fixture(scope="module")
def truth(demo_url: URL, plans_demo_dir: Path) -> pd.DataFrame:
    """What was planted: per chief and plan, habit, skipped stops (and those far from the path), detours."""
    return pd.read_csv(
        plans_demo_dir / FOLDER / TRUTH_FILE, dtype={"skipped": str, "skipped_clear": str, "detours": str}
    )


def test_every_squad_with_chiefs_has_an_approved_plan_by_its_leader_with_the_audit_entry(
    demo_url: URL, plans_demo_dir: Path, plan_day: dt.date
) -> None:
    rota = duty_rota(plans_demo_dir).get(plan_day, set())  # the duty rota patrols all shift, without a plan
    with get_engine(demo_url).connect() as conn:
        chiefs = conn.execute(text("SELECT squad_code, code FROM street_chiefs WHERE active")).all()
        squads = {squad for squad, code in chiefs if code not in rota}
        plans = approved_plans(conn, plan_day)
        assert set(plans["squad_code"]) == squads
        assert (plans["approved_by"] == plans["squad_code"].map(leader_of)).all()
        approved_at = plans["approved_at"].dt.tz_convert(get_region().tz)
        assert (approved_at.dt.date == plan_day - dt.timedelta(days=1)).all()  # approved the evening before
        audit = conn.execute(text("SELECT username, target FROM audit_log WHERE action = 'plan_approve'")).all()
        targets = {(row[0], row[1]) for row in audit}
        for plan in plans.itertuples():
            assert (leader_of(plan.squad_code), f"{plan.squad_code}/{plan.plan_id}") in targets


def test_yesterdays_adherence_has_a_spread_and_one_chief_ignores_the_plan(
    demo_url: URL, plan_day: dt.date, truth: pd.DataFrame
) -> None:
    with get_engine(demo_url).connect() as conn:
        plans = approved_plans(conn, plan_day)
        frame = pd.concat([adherence(conn, int(p.plan_id), int(p.version)) for p in plans.itertuples()])
    frame = frame[frame["planned"] > 0].set_index("chief_code")
    habit = truth[truth["date"] == plan_day.isoformat()].set_index("chief_code")["habit"]
    followers = frame.loc[[c for c in frame.index if habit.get(c) not in (None, "ignores")], "visited_share"]
    assert len(followers) >= 3
    # most chiefs follow most of their plan (a late start with few stops can leave one at nought) ...
    assert (followers >= 0.25).mean() >= 0.7, followers.to_dict()
    assert followers.max() - followers.min() >= 0.15, followers.to_dict()  # ... not everyone alike
    assert followers.mean() < 0.97  # stops are skipped: plans are not followed to the letter
    ignorers = frame.loc[[c for c in frame.index if habit.get(c) == "ignores"], "visited_share"]
    assert (ignorers < followers.median()).all()
    assert frame["detour_km"].sum() > 0  # detours to streets not in the plan are seen


def test_a_skipped_stop_is_reported_not_visited_and_kept_stops_mostly_visited(
    demo_url: URL, plan_day: dt.date, truth: pd.DataFrame
) -> None:
    rows = truth[(truth["date"] == plan_day.isoformat()) & truth["skipped_clear"].notna()]
    assert len(rows), "no skipped stop away from the walked path was planted"
    checked = kept_visited = kept_total = 0
    with get_engine(demo_url).connect() as conn:
        for row in rows.itertuples():
            states = stop_states(conn, int(row.plan_id), int(row.version), row.chief_code).set_index("segment_id")
            for sid in str(row.skipped_clear).split(";"):
                assert not states.loc[int(sid), "visited"], (row.chief_code, sid)
                checked += 1
            if row.habit != "ignores":
                skipped = {int(s) for s in str(row.skipped).split(";") if s and s != "nan"}
                kept = states[~states.index.isin(skipped)]
                kept_visited += int(kept["visited"].sum())
                kept_total += len(kept)
    assert checked >= 1
    assert kept_total == 0 or kept_visited / kept_total >= 0.6


def test_no_random_patrol_on_plan_days_and_today_has_a_task_for_the_chiefs(
    demo_url: URL, plans_demo_dir: Path, plan_day: dt.date, truth: pd.DataFrame
) -> None:
    random_days = pd.read_csv(plans_demo_dir / "truth/patrol_days.csv")
    on_plan_day = set(random_days.loc[random_days["date"] == plan_day.isoformat(), "chief_code"])
    rota = duty_rota(plans_demo_dir).get(plan_day, set())
    assert on_plan_day <= rota  # on a plan day only the duty rota walks at random: replaced, not doubled
    assert not rota & set(truth.loc[truth["date"] == plan_day.isoformat(), "chief_code"])  # and has no plan
    today = dt.datetime.now(get_region().tz).date()
    live = truth[truth["date"] == today.isoformat()]
    assert len(live), "today's plans were not followed"
    files = sorted(live_folder(plans_demo_dir, today).glob("*/*.gpx"))
    assert {f.parent.name for f in files} == set(live["chief_code"])
    day, items = gps_items(live_folder(plans_demo_dir, today), get_region())  # what the simulator sends today
    assert day == today and {item.body["device"] for item in items} == set(live["chief_code"])
    with get_engine(demo_url).connect() as conn:
        for chief in live["chief_code"]:
            assert chief_task(conn, chief, today) is not None
        loaded = conn.execute(
            text("SELECT count(*) FROM gps_fixes WHERE subject_id = ANY(:c) AND ts >= :t"),
            {"c": list(live["chief_code"]), "t": dt.datetime.combine(today, dt.time(), tzinfo=get_region().tz)},
        ).scalar_one()
    assert loaded == 0  # today's tracks are for the simulator, not loaded ahead of time


def test_a_second_run_changes_nothing(demo_url: URL, plans_demo_dir: Path, plan_day: dt.date) -> None:
    engine = get_engine(demo_url)
    count = "SELECT (SELECT count(*) FROM patrol_plans), (SELECT count(*) FROM gps_fixes)"
    with engine.connect() as conn:
        before = conn.execute(text(count)).one()
    reports = ensure_planned_patrols(engine, plans_demo_dir)
    with engine.connect() as conn:
        assert conn.execute(text(count)).one() == before
    assert all(r.loaded == 0 for r in reports)


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ((9, 0), ("day", dt.time(9, 10), 120)),
        ((22, 0), ("evening", dt.time(22, 10), 50)),
        ((22, 40), ("day", dt.time(8, 30), 120)),  # too little of the evening shift left
        ((2, 0), ("day", dt.time(8, 30), 120)),  # between shifts
    ],
)
def test_todays_plans_start_soon_in_the_shift_under_way(clock: tuple[int, int], expected: tuple) -> None:
    now = dt.datetime(2026, 11, 30, *clock, 17, tzinfo=get_region().tz)
    assert live_start(now) == expected
