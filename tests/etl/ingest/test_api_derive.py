"""Incremental derivation: fixes arriving in batches extend the device's trip and visits exactly as one load
of all of them would; case events set stage times, status, squad and due time through the case job's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import text

from etl.gps.config import GpsConfig
from etl.gps.derive import derive, visits
from etl.gps.match import StreetIndex
from geo.crs import from_wgs84, wgs84_to_gcj02
from tests.etl.ingest.conftest import Api, at


def walk(n: int, start: int = 0) -> list[dict]:
    """A walk east along 解放街 (S1 then S2), one fix every 10 s, 11 m apart."""
    return [
        {"device": "JLZ01001", "time": at((start + i) / 6), "lon": 119.805 + (start + i) * 0.0001, "lat": 28.8901}
        for i in range(n)
    ]


def stored_visits(api: Api) -> list[tuple]:
    with api.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT s.segment_key, v.trip_id, v.entered_at, v.left_at, v.n_fixes FROM segment_visits v "
                    "JOIN street_segments s ON s.id = v.segment_id ORDER BY v.entered_at"
                )
            )
        ]


def test_batches_extend_the_trip_and_visits_like_one_load(api: Api, region) -> None:
    track = walk(90)  # 119.805 → 119.8139: the end of S1 (119.810) into S2
    for start in range(0, 90, 15):
        answer = api.post("/api/v1/gps", {"fixes": track[start : start + 15]}).json()
        assert answer["accepted"] == 15, answer
    got = stored_visits(api)
    with api.engine.connect() as conn:
        trips = conn.execute(text("SELECT DISTINCT trip_id FROM gps_fixes")).scalars().all()
        streets = StreetIndex.from_db(conn, region.metric_crs, 30.0)
        keys = dict(conn.execute(text("SELECT id, segment_key FROM street_segments")).all())
    assert len(trips) == 1  # one trip across six requests
    # what the file load derives from all fixes at once
    frame = pd.DataFrame(track)
    frame["ts"] = pd.to_datetime(frame["time"]).map(lambda t: t.value).to_numpy(dtype=np.int64)
    frame["x"], frame["y"] = from_wgs84(frame["lon"].to_numpy(), frame["lat"].to_numpy(), region.metric_crs)
    frame = frame.assign(key=0, speed=np.nan, heading=np.nan)
    expected = visits(derive(frame, streets, GpsConfig()))
    pairs = zip(expected["segment"], expected["n_fixes"], strict=True)
    assert [(g[0], g[4]) for g in got] == [(keys[s], n) for s, n in pairs]
    assert [g[0] for g in got] == ["S1", "S2"]
    assert got[0][4] + got[1][4] == 90 and got[0][1] == trips[0]


def test_a_fix_before_the_last_one_is_rejected_and_a_gap_starts_a_new_trip(api: Api) -> None:
    assert api.post("/api/v1/gps", {"fixes": walk(5, start=10)}).json()["accepted"] == 5
    late = api.post("/api/v1/gps", {"fixes": walk(1, start=2)}).json()
    assert late["accepted"] == 0 and "not after the device's last accepted fix" in late["rejected"][0]["reason"]
    later = walk(3, start=120)  # 18 minutes on: beyond the 5-minute trip gap
    assert api.post("/api/v1/gps", {"fixes": later}).json()["accepted"] == 3
    with api.engine.connect() as conn:
        assert conn.execute(text("SELECT count(DISTINCT trip_id) FROM gps_fixes")).scalar_one() == 2


def test_a_spike_at_the_start_of_a_batch_is_caught_against_the_stored_track(api: Api) -> None:
    assert api.post("/api/v1/gps", {"fixes": walk(5)}).json()["accepted"] == 5
    lone = walk(1, start=5)
    lone[0]["lat"] += 0.02  # 2.2 km off, 10 s after the last stored fix: a batch of one spike
    answer = api.post("/api/v1/gps", {"fixes": lone}).json()
    assert answer["accepted"] == 0 and answer["rejected"][0]["index"] == 0
    assert answer["rejected"][0]["reason"].startswith("impossible jump"), answer
    batch = walk(5, start=6)
    for fix in batch[:2]:  # a two-fix excursion opens the batch; the ends rule alone sees no jump in it
        fix["lat"] += 0.02
    answer = api.post("/api/v1/gps", {"fixes": batch}).json()
    assert answer["accepted"] == 3 and [r["index"] for r in answer["rejected"]] == [0, 1], answer
    assert all(r["reason"].startswith("impossible jump") for r in answer["rejected"])
    with api.engine.connect() as conn:
        assert conn.execute(text("SELECT max(ST_Y(geom)) FROM gps_fixes")).scalar_one() < 28.891
        runs = conn.execute(
            text("SELECT sum(rows_read), sum(rows_loaded), sum(rows_rejected) FROM etl_runs WHERE job = 'api_gps'")
        )
        assert tuple(runs.one()) == (11, 8, 3)


def test_gcj02_fixes_are_stored_in_wgs84_and_csv_bodies_work(api: Api) -> None:
    lon, lat = wgs84_to_gcj02(np.array([119.806]), np.array([28.8901]))
    body = f"device,time,lon,lat,crs,speed\nV1,{at(1)},{lon[0]},{lat[0]},gcj02,3.5\n"
    answer = api.post("/api/v1/gps", body).json()
    assert answer == {"accepted": 1, "duplicates": 0, "rejected": []}
    with api.engine.connect() as conn:
        x, y, crs, speed = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom), source_crs, speed_mps FROM gps_fixes")
        ).one()
    assert abs(x - 119.806) < 1e-6 and abs(y - 28.8901) < 1e-6 and crs == "gcj02" and speed == 3.5


def case_row(api: Api, number: str) -> dict:
    with api.engine.connect() as conn:
        return dict(
            conn.execute(
                text(
                    "SELECT status, squad_code, received_at, dispatched_at, arrived_at, closed_at, due_at, "
                    "geocode_level FROM cases WHERE case_number = :n"
                ),
                {"n": number},
            )
            .mappings()
            .one()
        )


def test_case_events_update_stage_times_status_squad_and_due_time(api: Api) -> None:
    lon, lat = wgs84_to_gcj02(np.array([119.805]), np.array([28.895]))
    new = {
        "case_number": "wy-live-1",
        "stage": "received",
        "time": at(0),
        "category": "占道经营",
        "procedure_type": "简易程序",
        "address": "武义县熟溪街道解放街25号",
        "lon": float(lon[0]),
        "lat": float(lat[0]),
    }
    first = api.post("/api/v1/cases", {"events": [new]}).json()
    assert first == {"accepted": 1, "duplicates": 0, "rejected": []}
    row = case_row(api, "WY-LIVE-1")
    assert row["status"] == "待派遣" and row["squad_code"] == "ZD01" and row["due_at"] is not None
    events = [
        {"case_number": "WY-LIVE-1", "stage": "arrived", "time": at(30)},
        {"case_number": "WY-LIVE-1", "stage": "dispatched", "time": at(5)},
        {"case_number": "WY-LIVE-1", "stage": "shipped", "time": at(6)},
        {"case_number": "WY-LIVE-2", "stage": "dispatched", "time": at(6)},
    ]
    answer = api.post("/api/v1/cases", {"events": events}).json()
    assert answer["accepted"] == 2 and answer["duplicates"] == 0
    reasons = {r["index"]: r["reason"] for r in answer["rejected"]}
    assert "stage must be one of" in reasons[2] and "received time (上报时间) is missing" in reasons[3]
    row = case_row(api, "WY-LIVE-1")
    assert row["status"] == "办理中" and row["dispatched_at"] < row["arrived_at"] and row["closed_at"] is None
    again = api.post("/api/v1/cases", {"events": [new, *events[:2]]}).json()
    assert again == {"accepted": 0, "duplicates": 3, "rejected": []}
    closed = api.post("/api/v1/cases", {"events": [{"case_number": "WY-LIVE-1", "stage": "closed", "time": at(90)}]})
    assert closed.json()["accepted"] == 1 and case_row(api, "WY-LIVE-1")["status"] == "已结案"
    with api.engine.connect() as conn:
        runs = conn.execute(
            text("SELECT sum(rows_read), sum(rows_loaded), sum(rows_rejected) FROM etl_runs WHERE job = 'api_cases'")
        ).one()
        events_kept = conn.execute(text("SELECT count(*) FROM case_events")).scalar_one()
    assert tuple(runs) == (9, 4, 5) and events_kept == 4


def test_a_batch_mixing_a_new_case_and_an_update_of_a_known_case_is_stored(api: Api) -> None:
    """A vendor batch carries new cases and later stages of known ones together: the update gives no
    geocode, the new case does, and neither may break the other (the known case is not re-inserted)."""
    lon, lat = wgs84_to_gcj02(np.array([119.805]), np.array([28.895]))

    def received(number: str, minutes: float) -> dict:
        return {
            "case_number": number,
            "stage": "received",
            "time": at(minutes),
            "category": "占道经营",
            "procedure_type": "简易程序",
            "address": "武义县熟溪街道解放街25号",
            "lon": float(lon[0]),
            "lat": float(lat[0]),
        }

    assert api.post("/api/v1/cases", {"events": [received("WY-MIX-1", 0)]}).json()["accepted"] == 1
    mixed = [received("WY-MIX-2", 3), {"case_number": "WY-MIX-1", "stage": "dispatched", "time": at(4)}]
    answer = api.post("/api/v1/cases", {"events": mixed})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert case_row(api, "WY-MIX-1")["status"] == "已派遣"
    assert case_row(api, "WY-MIX-2")["geocode_level"] is not None
