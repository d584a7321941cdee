"""Live positions: online / stale / offline by the age of the last fix, labels without names on the
wall, names for a scope with personal data; the live KPI counts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.engine import Connection

from layers.base import LayerParams, Scope
from layers.queries.kpis import live_figures
from layers.queries.live import live_frames, live_traces
from tests.layers.conftest import Seed, local

NOW = local(2026, 3, 10, 10, 0)


def _fix(db: Connection, subject: str, minutes_ago: float, lon: float = 119.80) -> None:
    db.execute(
        text(
            "INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom) "
            "VALUES ('patrol', :s, :ts, ST_SetSRID(ST_MakePoint(:x, 28.89), 4326))"
        ),
        {"s": subject, "ts": NOW - dt.timedelta(minutes=minutes_ago), "x": lon},
    )


def test_states_labels_and_live_counts(db: Connection, seed: Seed) -> None:
    seed.squad("ZD01", "熟溪中队", station=(119.8, 28.89), short_name="熟溪")
    seed.squad("ZD02", "白洋中队", station=(119.83, 28.89), short_name="白洋")
    for code, squad in (("JL001", "ZD01"), ("JL002", "ZD01"), ("JL003", "ZD01"), ("JL004", "ZD02")):
        seed.chief(code, f"王{code[-1]}明", squad, [], role="街长")
    _fix(db, "JL001", 20)
    _fix(db, "JL001", 2, lon=119.801)  # the last fix wins
    _fix(db, "JL002", 10)
    _fix(db, "JL003", 60)
    _fix(db, "JL004", 1)
    _fix(db, "JL003", 13 * 60)  # older than offline_keep_h: not drawn
    wall = live_frames(db, Scope(aggregates_only=True), NOW, names=True)["positions"].set_index("subject_id")
    assert wall["state"].to_dict() == {"JL001": "online", "JL002": "stale", "JL003": "offline", "JL004": "online"}
    assert wall.loc["JL001", "lon"] == 119.801
    assert wall.loc["JL001", "label"] == "熟溪 街长"  # no name without the right to personal data
    leader = live_frames(db, Scope(squads=("ZD01",), personal_data=True), NOW, names=True)
    assert set(leader["positions"]["subject_id"]) == {"JL001", "JL002", "JL003"}  # not another squad's
    assert "王1明" in leader["positions"].set_index("subject_id").loc["JL001", "label"]
    assert set(leader["trail"]["subject_id"]) == {"JL001", "JL002"}  # the last 15 minutes
    traces = live_traces(leader)
    assert [t.meta["layer"] for t in traces] == ["live_trail", "live_positions", "live_cases", "live_warnings"]
    seed.case(119.80, 28.89, NOW - dt.timedelta(minutes=40), squad_code="ZD01")  # overdue, not dispatched
    seed.case(119.80, 28.89, NOW - dt.timedelta(minutes=10), squad_code="ZD01", dispatched_at=NOW)
    seed.case(119.80, 28.89, NOW - dt.timedelta(hours=20), squad_code="ZD01", closed_at=NOW)  # yesterday
    figures = live_figures(db, LayerParams(scope=Scope(squads=("ZD01",))), NOW)
    assert figures == {"on_duty": 1, "new_today": 2, "to_dispatch": 1, "overdue_arrival": 1}
