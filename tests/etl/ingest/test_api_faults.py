"""Bad input and faults of the ingest API over real HTTP: tokens, limits, garbage, half-valid batches,
re-sent and concurrent batches, a database outage in the middle."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import text

from tests.dashboard.pgproxy import SocketProxy
from tests.etl.ingest.conftest import Api, at, serve


def fixes(n: int, device: str = "JLZ01001", start: float = 0.0, lat: float = 28.8901) -> list[dict]:
    """``n`` fixes walking east along 解放街 (S1), one every 10 s."""
    return [
        {"device": device, "time": at(start + i / 6), "lon": 119.801 + i * 0.0001, "lat": lat, "crs": "wgs84"}
        for i in range(n)
    ]


def count(api: Api, sql: str) -> int:
    with api.engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_tokens_are_required_valid_and_scoped(api: Api) -> None:
    from etl.api.tokens import create_token, revoke_tokens

    body = {"fixes": fixes(2)}
    missing = requests.post(api.url + "/api/v1/gps", json=body, timeout=30)
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    assert api.post("/api/v1/gps", body, token="not-a-token").status_code == 401
    gps_only = create_token(api.engine, "tracker", ["gps"])
    refused = api.post("/api/v1/cases", {"events": []}, token=gps_only)
    assert refused.status_code == 403 and "cases" in refused.json()["error"]
    expired = create_token(api.engine, "old", ["gps"], expires_days=1)
    with api.engine.begin() as conn:
        conn.execute(text("UPDATE ingest_tokens SET expires_at = now() - interval '1 minute' WHERE source = 'old'"))
    assert api.post("/api/v1/gps", body, token=expired).json()["error"] == "token expired"
    assert revoke_tokens(api.engine, "tracker") == 1
    assert api.post("/api/v1/gps", body, token=gps_only).status_code == 401
    ok = api.post("/api/v1/gps", body)
    assert ok.status_code == 200 and "Set-Cookie" not in ok.headers
    assert count(api, "SELECT count(*) FROM gps_fixes") == 2


def test_token_cli_prints_once_stores_hash_and_revokes(api: Api) -> None:
    from etl.__main__ import main

    created = CliRunner().invoke(main, ["tokens", "create", "--source", "platform-x", "--kinds", "gps"])
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    listed = CliRunner().invoke(main, ["tokens", "list"])
    assert "platform-x" in listed.output and token not in listed.output
    with api.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM ingest_tokens WHERE source = 'platform-x'")).scalar_one()
    assert stored != token and len(stored) == 64
    assert api.post("/api/v1/gps", {"fixes": fixes(1)}, token=token).status_code == 200
    assert CliRunner().invoke(main, ["tokens", "revoke", "--source", "platform-x"]).exit_code == 0
    assert api.post("/api/v1/gps", {"fixes": fixes(1, start=5)}, token=token).status_code == 401
    bad = CliRunner().invoke(main, ["tokens", "create", "--source", "y", "--kinds", "gps,video"])
    assert bad.exit_code != 0 and "video" in bad.output


def test_oversized_body_and_batch_are_413(world_engine, schema_url, monkeypatch) -> None:
    from etl.api.tokens import create_token

    token = create_token(world_engine, "v", ["gps"])
    for url in serve(schema_url, monkeypatch, EGIS_API_MAX_BODY_MB="0.01", EGIS_API_MAX_BATCH="3"):
        api = Api(url, world_engine, schema_url, token)
        big = api.post("/api/v1/gps", {"fixes": fixes(2), "pad": "x" * 20_000})
        assert big.status_code == 413 and "EGIS_API_MAX_BODY_MB" in big.json()["error"]
        many = api.post("/api/v1/gps", {"fixes": fixes(4)})
        assert many.status_code == 413 and "EGIS_API_MAX_BATCH" in many.json()["error"]
    assert count(api, "SELECT count(*) FROM gps_fixes") == 0


def test_rate_limit_answers_429_with_retry_after(world_engine, schema_url, monkeypatch) -> None:
    from etl.api.tokens import create_token

    token = create_token(world_engine, "v", ["gps"])
    for url in serve(schema_url, monkeypatch, EGIS_API_RATE_PER_S="0.2"):
        api = Api(url, world_engine, schema_url, token)
        assert api.post("/api/v1/gps", {"fixes": fixes(1)}).status_code == 200
        limited = api.post("/api/v1/gps", {"fixes": fixes(1, start=1)})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert count(api, "SELECT count(*) FROM gps_fixes") == 1


def test_garbage_bodies_are_400_with_item_errors(api: Api) -> None:
    assert api.post("/api/v1/gps", "{not json", **{"Content-Type": "application/json"}).status_code == 400
    assert api.post("/api/v1/gps", {"points": []}).json()["error"] == 'the body must be an object with a list "fixes"'
    csv_bad = api.post("/api/v1/gps", "device,time,lon,lat\nA,2026-01-01T00:00:00+08:00,119.8\n")
    assert csv_bad.status_code == 400 and csv_bad.json()["errors"] == [
        {"index": 0, "reason": "3 cells, the header has 4"}
    ]
    items = api.post("/api/v1/gps", {"fixes": [{"device": "", "time": "yesterday"}, 7]})
    assert items.status_code == 400
    errors = items.json()["errors"]
    assert [e["index"] for e in errors] == [0, 1]
    assert (
        "device is missing" in errors[0]["reason"] and "time 'yesterday' is not an ISO 8601 time" in errors[0]["reason"]
    )
    assert count(api, "SELECT count(*) FROM gps_fixes") == 0


def test_half_valid_batch_stores_the_valid_and_keeps_each_reject(api: Api) -> None:
    good = fixes(5)
    future = dict(good[0], time=(dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat(), device="D2")
    outside = dict(good[0], lon=116.4, lat=39.9, device="D3")  # Beijing
    no_offset = dict(good[0], time="2026-11-30T08:00:00", device="D4")
    wrong_crs = dict(good[0], crs="bd09", device="D5")
    batch = [good[0], future, good[1], outside, good[2], no_offset, good[3], wrong_crs, good[4]]
    answer = api.post("/api/v1/gps", {"fixes": batch}).json()
    assert answer["accepted"] == 5 and answer["duplicates"] == 0
    reasons = {r["index"]: r["reason"] for r in answer["rejected"]}
    assert sorted(reasons) == [1, 3, 5, 7]
    assert "in the future" in reasons[1] and "outside the region" in reasons[3]
    assert "no UTC offset" in reasons[5] and "crs must be one of" in reasons[7]
    with api.engine.connect() as conn:
        run = conn.execute(
            text("SELECT id, rows_read, rows_loaded, rows_rejected, status FROM etl_runs WHERE job = 'api_gps'")
        ).one()
        kept = conn.execute(
            text("SELECT row_number, reason, raw FROM etl_rejects WHERE run_id = :r ORDER BY row_number"), {"r": run.id}
        ).all()
    assert (run.rows_read, run.rows_loaded, run.rows_rejected, run.status) == (9, 5, 4, "succeeded")
    assert [k.row_number for k in kept] == [1, 3, 5, 7] and kept[1].raw["lon"] == 116.4


def test_same_batch_twice_and_concurrently_is_stored_once(api: Api) -> None:
    batch = {"fixes": fixes(20) + fixes(20, device="JLZ01002", lat=28.8899)}
    first = api.post("/api/v1/gps", batch).json()
    again = api.post("/api/v1/gps", batch).json()
    assert first["accepted"] == 40 and first["rejected"] == []
    assert again == {"accepted": 0, "duplicates": 40, "rejected": []}
    stored = count(api, "SELECT count(*) FROM gps_fixes")
    visits = count(api, "SELECT count(*) FROM segment_visits")

    fresh = {"fixes": fixes(20, device="JLZ01003", start=30)}
    answers: list[dict] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        answers.append(api.post("/api/v1/gps", fresh).json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a["accepted"] for a in answers) == [0, 0, 0, 20]
    assert sorted(a["duplicates"] for a in answers) == [0, 20, 20, 20]
    assert count(api, "SELECT count(*) FROM gps_fixes") == stored + 20
    assert count(api, "SELECT count(*) FROM segment_visits") == visits + 1


def test_database_down_answers_503_and_the_retry_stores_once(api: Api, tmp_path: Path, monkeypatch) -> None:
    if "host" not in api.db_url.query:
        pytest.skip("the outage proxy needs a unix-socket database URL (the embedded cluster)")
    host = api.db_url.query["host"]
    port = int(api.db_url.query.get("port") or api.db_url.port or 5432)
    folder = tmp_path / "sock"
    folder.mkdir()
    proxy = SocketProxy(Path(host) / f".s.PGSQL.{port}", folder, port)
    proxy.restore()
    try:
        for url in serve(api.db_url.update_query_dict({"host": str(folder)}), monkeypatch):
            proxied = Api(url, api.engine, api.db_url, api.token)
            batch = {"fixes": fixes(10)}
            assert proxied.post("/api/v1/gps", {"fixes": fixes(2, start=-5)}).status_code == 200
            proxy.cut()
            down = proxied.post("/api/v1/gps", batch)
            assert down.status_code == 503 and int(down.headers["Retry-After"]) >= 1
            proxy.restore()
            retry = proxied.post("/api/v1/gps", batch)
            assert retry.status_code == 200 and retry.json()["accepted"] == 10
            assert proxied.post("/api/v1/gps", batch).json()["duplicates"] == 10
    finally:
        proxy.cut()
    assert count(api, "SELECT count(*) FROM gps_fixes") == 12


def test_openapi_is_served(api: Api) -> None:
    spec = requests.get(api.url + "/api/v1/openapi.json", timeout=30).json()
    assert set(spec["paths"]) == {"/api/v1/gps", "/api/v1/cases"}
    responses = spec["paths"]["/api/v1/gps"]["post"]["responses"]
    assert {"200", "400", "401", "403", "413", "429", "503"} <= set(responses)
    assert json.dumps(spec)
