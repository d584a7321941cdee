"""The device registry: a fix maps to whoever held the device at its time; unknown devices are rejected
with their reason; the file load and the live API resolve a device the same way (one function)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.devices import assign_device, list_devices, retire_device
from etl.gps.subjects import resolve_devices
from geo.errors import InputError
from tests.etl.ingest.conftest import BASE, Api, at
from tests.layers.conftest import Seed, local

T0 = local(2026, 3, 10, 8, 0)
T1 = local(2026, 3, 10, 12, 0)


def _ns(*times: dt.datetime) -> np.ndarray:
    return np.array([int(t.timestamp()) * 1_000_000_000 for t in times], dtype=np.int64)


@pytest.fixture
def officers(db: Connection) -> Connection:
    seed = Seed(db)
    seed.squad("ZD01", "熟溪中队")
    seed.chief("JL001", "甲", "ZD01", [])
    seed.chief("JL002", "乙", "ZD01", [])
    return db


def test_a_fix_maps_to_whoever_held_the_device_at_its_time(officers: Connection) -> None:
    db = officers
    assert assign_device(db, "IMEI-860001", "patrol", "JL001", T0) == "added"
    assert assign_device(db, "imei-860001", "patrol", "JL002", T1) == "handed over"  # ids match case-insensitively
    before, morning, afternoon = T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1), T1 + dt.timedelta(hours=1)
    found = resolve_devices(
        db,
        np.array(["patrol"] * 5, dtype=object),
        np.array(["IMEI-860001", "Imei-860001", "IMEI-860001", "JL002", "GHOST-7"], dtype=object),
        _ns(morning, afternoon, before, morning, morning),
    )
    assert found.subject.tolist() == ["JL001", "JL002", None, "JL002", None]
    assert found.unknown.tolist() == [False, False, True, False, True]
    assert len(found.reasons) == 2
    assert "未登记的设备" in found.reasons[1] and "GHOST-7" in found.reasons[1] and "unknown device" in found.reasons[1]
    history = list_devices(db, "imei-860001")
    assert [(r["subject_id"], r["valid_from"], r["valid_to"]) for r in history] == [
        ("JL001", T0, T1),
        ("JL002", T1, None),
    ]


def test_the_registry_keeps_its_history_in_order_and_knows_its_subjects(officers: Connection) -> None:
    db = officers
    assign_device(db, "DSJ-01", "patrol", "JL001", T1)
    with pytest.raises(InputError, match="after the last one"):
        assign_device(db, "DSJ-01", "patrol", "JL002", T0)  # before the current holder's start
    with pytest.raises(InputError, match="not a known street chief code"):
        assign_device(db, "DSJ-02", "patrol", "JL999", T0)
    assert assign_device(db, "DSJ-01", "patrol", "JL001", T1 + dt.timedelta(hours=1)) == "unchanged"
    retire_device(db, "dsj-01", T1 + dt.timedelta(hours=2))
    with pytest.raises(InputError, match="not held by anyone"):
        retire_device(db, "DSJ-01", T1 + dt.timedelta(hours=3))
    found = resolve_devices(
        db, np.array(["patrol"], dtype=object), np.array(["DSJ-01"], dtype=object), _ns(T1 + dt.timedelta(hours=3))
    )
    assert found.unknown.tolist() == [True]  # retired: its later fixes belong to nobody


def test_with_nothing_of_a_kind_known_the_device_id_is_the_subject_as_before(db: Connection) -> None:
    found = resolve_devices(db, np.array(["sanitation"], dtype=object), np.array(["浙G0001"], dtype=object), _ns(T0))
    assert found.subject.tolist() == ["浙G0001"] and not found.unknown.any()


def _chiefs(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO street_chiefs (code, name, squad_code) VALUES ('JLZ01001', '甲', 'ZD01'), "
                "('JLZ01002', '乙', 'ZD01')"
            )
        )
        handover = BASE + dt.timedelta(minutes=30)
        assign_device(conn, "IMEI-860001", "patrol", "JLZ01001", BASE - dt.timedelta(days=1))
        assign_device(conn, "IMEI-860001", "patrol", "JLZ01002", handover)


def _stored(engine: Engine) -> list[tuple[str, dt.datetime]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT subject_id, ts FROM gps_fixes ORDER BY ts, subject_id"))]


def _rejects(engine: Engine, run_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT reason FROM etl_rejects WHERE run_id = :r ORDER BY row_number"), {"r": run_id}
            ).scalars()
        )


def test_the_file_load_and_the_api_resolve_devices_alike(api: Api, tmp_path: Path) -> None:
    from etl.jobs.gps import load

    engine = api.engine
    _chiefs(engine)
    items = [
        {"device": "imei-860001", "time": at(i * 2), "lon": 119.805 + i * 0.0002, "lat": 28.8901, "crs": "wgs84"}
        for i in range(30)
    ]
    items.append({"device": "GHOST-7", "time": at(5), "lon": 119.806, "lat": 28.8902, "crs": "wgs84"})
    answer = api.post("/api/v1/gps", {"fixes": items}).json()
    assert answer["accepted"] + answer["duplicates"] + len(answer["rejected"]) == len(items)
    assert [r["index"] for r in answer["rejected"]] == [30]
    assert "未登记的设备" in answer["rejected"][0]["reason"]
    by_api = _stored(engine)
    assert {s for s, _ in by_api} == {"JLZ01001", "JLZ01002"}
    handover = BASE + dt.timedelta(minutes=30)
    assert all((s == "JLZ01001") == (t < handover) for s, t in by_api)
    with engine.connect() as conn:
        run_id = conn.execute(text("SELECT max(id) FROM etl_runs WHERE job = 'api_gps'")).scalar_one()
        api_reasons = _rejects(engine, run_id)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM segment_visits; DELETE FROM gps_fixes"))

    folder = tmp_path / "gps"
    folder.mkdir()
    (folder / "source.toml").write_text('subject_kind = "patrol"\n', encoding="utf-8")
    lines = ["设备号,定位时间,经度,纬度"]
    for item in items:
        when = dt.datetime.fromisoformat(item["time"]).astimezone(local(2026, 1, 1).tzinfo)
        lines.append(f"{item['device']},{when:%Y-%m-%d %H:%M:%S},{item['lon']},{item['lat']}")
    (folder / "tracks.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = load(engine, folder, crs="EPSG:4326")
    assert report.status == "succeeded", report
    assert report.read == report.loaded + report.rejected
    assert _stored(engine) == by_api
    assert _rejects(engine, report.run_id) == api_reasons


def test_devices_cli_adds_lists_and_retires(schema_engine: Engine, schema_url, monkeypatch) -> None:
    from etl.__main__ import main
    from geo.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", schema_url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    with schema_engine.begin() as conn:
        conn.execute(text("INSERT INTO street_chiefs (code, name) VALUES ('JL001', '甲')"))
    runner = CliRunner()
    try:
        added = runner.invoke(main, ["devices", "add", "IMEI-1", "--subject", "JL001", "--from", "2026-03-10T08:00"])
        assert added.exit_code == 0, added.output
        listed = runner.invoke(main, ["devices", "list"])
        assert "IMEI-1" in listed.output and "JL001" in listed.output and "2026-03-10 08:00" in listed.output
        bad = runner.invoke(main, ["devices", "add", "IMEI-2", "--subject", "NOBODY"])
        assert bad.exit_code != 0 and "not a known street chief code" in bad.output
        retired = runner.invoke(main, ["devices", "retire", "imei-1", "--at", "2026-03-11T08:00"])
        assert retired.exit_code == 0, retired.output
    finally:
        get_settings.cache_clear()
