"""The case ETL on real PostGIS: formats, geocoding, coordinate checks, squads, times, upserts, review queue."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from etl.jobs import cases
from etl.jobs._case_checks import TimeBounds, check_stages, parse_stages, parse_time
from etl.review import review_count, review_queue
from geo.crs import wgs84_to_gcj02
from geo.errors import ValidationError
from geo.region import Region
from geo.time_limits import due_at

HEADERS = [
    "案件编号",
    "案由/类别",
    "执法领域",
    "程序类型",
    "发现方式",
    "案件状态",
    "案情描述",
    "地址",
    "上报时间",
    "派遣时间",
    "到场时间",
    "办结时间",
    "所属中队",
    "经度",
    "纬度",
    "当事人",
    "当事人电话",
    "当事人证件号码",
    "投诉人",
    "投诉人电话",
]
CLOSED_TIMES = ("2025-03-03 09:00:00", "2025-03-03 09:10:00", "2025-03-03 09:40:00", "2025-03-04 16:00:00")
TZ = ZoneInfo("Asia/Shanghai")
SOON = f"{dt.datetime.now(TZ) + dt.timedelta(hours=2):%Y-%m-%d %H:%M:%S}"
DOOR_25 = (119.800 + 0.010 * 24 / 48, 28.89004)  # 熟溪街道解放街25号 (north side of the street)


def gcj(lon: float, lat: float) -> tuple[str, str]:
    x, y = wgs84_to_gcj02(lon, lat)
    return f"{float(x):.6f}", f"{float(y):.6f}"


def case(
    number: str,
    address: str,
    *,
    times: tuple[str, ...] = CLOSED_TIMES,
    procedure: str = "一般程序",
    status: str = "已办结",
    squad: str = "熟溪中队",
    lon: str = "",
    lat: str = "",
) -> list[str]:
    """One export row in the order of HEADERS."""
    head = [number, "占道经营", "市容环卫", procedure, "巡查发现", status, "描述", address, *times, squad, lon, lat]
    return [*head, "张三", "13800000000", "330723199001011234", "", ""]


def rows() -> list[list[str]]:
    return [
        case("C001", "熟溪街道解放街25号", lon=gcj(*DOOR_25)[0], lat=gcj(*DOOR_25)[1]),
        case(
            "C002",
            "阳光小区门口",
            procedure="简易程序",
            status="处理中",
            squad="白洋中队",
            times=("2025-03-05 10:00:00", "2025-03-05 10:05:00", "", ""),
        ),
        case("C003", "永康市西城街道解放路8号"),
        case("C004", "不详", squad="白洋中队", lon=gcj(119.815, 28.905)[0], lat=gcj(119.815, 28.905)[1]),
        case("C005", "熟溪街道解放街25号", lon=f"{DOOR_25[0]:.6f}", lat=f"{DOOR_25[1]:.6f}"),  # WGS-84 as GCJ-02
        case("C006", "白洋街道武阳路10号", squad="白洋中队", lon=gcj(119.6, 28.7)[0], lat=gcj(119.6, 28.7)[1]),
        case("C007", "熟溪街道解放街25号", lon=gcj(*DOOR_25)[1], lat=gcj(*DOOR_25)[0]),  # swapped columns
        case("C008", "熟溪街道解放街与壶山下街交叉口", lon="120.500000", lat="30.000000"),
        case(
            "C009", "熟溪街道江山社区", times=("2025-03-06 10:00:00", "2025-03-06 09:00:00", "", SOON)
        ),  # closed "in two hours": within the allowed clock skew, so flagged, not rejected
        case("C010", "熟溪街道解放街3号", times=("", "2025-03-06 09:00:00", "", "")),
        case("", "熟溪街道解放街5号"),
        case("C001", "熟溪街道解放街25号", status="处理中", times=("2025-03-03 09:00:00", "", "", "")),
        case("C011", "熟溪街道解放街7号", lon="abc", lat="28.9"),
    ]


def write_csv(path: Path, table: list[list[str]], encoding: str, header: list[str] = HEADERS) -> Path:
    lines = [",".join(header)] + [",".join(r) for r in table]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, table: list[list[object]], header: list[str] = HEADERS) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for r in table:
        sheet.append(r)
    book.save(path)
    return path


def fetch(engine: Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        result = conn.execute(
            text(
                "SELECT case_number, geocode_level, flags, squad_code, status, township_code, attrs, received_at, "
                "closed_at, due_at, time_limit, ST_X(geom) AS lon, ST_Y(geom) AS lat, segment_id FROM cases"
            )
        ).all()
    return {r.case_number: r._asdict() for r in result}


def test_a_gbk_export_loads_with_flags_rejects_and_reconciled_counts(world_engine: Engine, tmp_path: Path) -> None:
    report = cases.load(world_engine, write_csv(tmp_path / "cases.csv", rows(), "gbk"))
    assert report.status == "succeeded"
    assert report.read == 13 and report.loaded == 10 and report.rejected == 3
    assert report.read == report.loaded + report.rejected
    with world_engine.connect() as conn:
        rejects = conn.execute(
            text("SELECT row_number, reason, raw->>'案件编号' FROM etl_rejects WHERE run_id = :r ORDER BY row_number"),
            dict(r=report.run_id),
        ).all()
    assert [(r[0], r[2]) for r in rejects] == [(11, "C010"), (12, ""), (13, "C001")]
    assert "received time" in rejects[0][1] and "case number" in rejects[1][1]
    assert "duplicate case number C001" in rejects[2][1] and "row 2" in rejects[2][1]
    got = fetch(world_engine)
    assert len(got) == 10

    c001 = got["C001"]
    assert c001["geocode_level"] == "门牌" and c001["flags"] == [] and c001["squad_code"] == "ZD01"
    assert c001["status"] == "已办结" and c001["township_code"] == "330723003" and c001["segment_id"] is not None
    assert c001["attrs"]["point_source"] == "coordinates" and c001["attrs"]["address_distance_m"] < 30
    assert abs(c001["lon"] - DOOR_25[0]) < 1e-5 and abs(c001["lat"] - DOOR_25[1]) < 1e-5  # GCJ-02 converted
    assert c001["attrs"]["durations_min"] == {"dispatch": 10.0, "arrive": 30.0, "handle": 1820.0, "total": 1860.0}
    assert c001["time_limit"] == "90天" and c001["due_at"] == dt.datetime(2025, 6, 1, 23, 59, 59, 999999, tzinfo=TZ)

    c002 = got["C002"]
    assert c002["geocode_level"] == "小区或地点" and c002["attrs"]["point_source"] == "address"
    assert c002["squad_code"] == "ZD01" and c002["flags"] == ["squad_mismatch"]  # exported as 白洋中队
    assert c002["time_limit"] == "1个工作日"
    assert c002["due_at"] == dt.datetime(2025, 3, 6, 23, 59, 59, 999999, tzinfo=TZ)

    c003 = got["C003"]
    assert c003["geocode_level"] == "未匹配" and c003["lon"] is None and "永康市" in c003["attrs"]["geocode_reason"]
    assert c003["squad_code"] == "ZD01" and c003["attrs"]["squad_source"] == "export"

    c004 = got["C004"]
    assert c004["geocode_level"] == "未匹配" and c004["lon"] is not None and c004["squad_code"] == "ZD02"

    c005 = got["C005"]
    assert "coord_wgs84_as_gcj02" in c005["flags"] and abs(c005["lon"] - DOOR_25[0]) < 1e-6
    assert "coord_address_mismatch" in got["C006"]["flags"]
    assert got["C006"]["geocode_level"] == "门牌"
    c007 = got["C007"]
    assert c007["flags"] == ["coord_swapped"] and abs(c007["lon"] - DOOR_25[0]) < 1e-5
    c008 = got["C008"]
    assert c008["flags"] == ["coord_outside_county"] and c008["geocode_level"] == "交叉口"
    assert c008["attrs"]["point_source"] == "address" and abs(c008["lon"] - 119.81) < 1e-6
    assert set(got["C009"]["flags"]) == {"time_order", "time_future", "time_missing_stage"}
    assert got["C011"]["flags"] == ["coord_invalid"] and got["C011"]["geocode_level"] == "门牌"

    stats = report.stats
    assert sum(stats["geocode_levels"].values()) == 10
    assert stats["geocode_levels"]["门牌"] == 5 and stats["geocode_levels"]["未匹配"] == 2
    assert stats["geocode_shares"]["未匹配"] == 0.2
    assert stats["inserted"] == 10 and stats["updated"] == 0

    # The same file again changes nothing.
    assert cases.load(world_engine, tmp_path / "cases.csv").status == "skipped"


def test_a_reexported_case_is_updated_not_duplicated(world_engine: Engine, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "march.csv", rows()[:3], "utf-8-sig")
    assert cases.load(world_engine, first).loaded == 3
    received_before = fetch(world_engine)["C002"]["received_at"]
    later = [
        case(
            "C002",
            "阳光小区门口",
            procedure="简易程序",
            status="已办结",
            squad="熟溪中队",
            times=("2025-03-05 10:00:00", "2025-03-05 10:05:00", "2025-03-05 10:30:00", "2025-03-05 15:00:00"),
        ),
        case("C012", "熟溪街道熟溪路8号"),
    ]
    report = cases.load(world_engine, write_xlsx(tmp_path / "april.xlsx", later))
    assert (report.stats["inserted"], report.stats["updated"]) == (1, 1)
    got = fetch(world_engine)
    assert len(got) == 4
    c002 = got["C002"]
    assert c002["status"] == "已办结" and c002["closed_at"] == dt.datetime(2025, 3, 5, 15, tzinfo=TZ)
    assert c002["received_at"] == received_before and c002["flags"] == []  # squad now agrees
    # Reloading the older export (forced) updates the status back but never erases a time.
    cases.load(world_engine, first, force=True)
    again = fetch(world_engine)["C002"]
    assert again["status"] == "处理中" and again["closed_at"] == dt.datetime(2025, 3, 5, 15, tzinfo=TZ)


def test_a_folder_of_mixed_formats_keeps_the_later_export_of_a_case(world_engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    write_csv(folder / "a_gbk.csv", rows()[:2], "gbk")
    write_xlsx(folder / "b_later.xlsx", [case("C002", "阳光小区门口", status="已办结", squad="熟溪中队")])
    report = cases.load(world_engine, folder)
    assert (report.read, report.loaded, report.rejected) == (3, 2, 1)
    assert fetch(world_engine)["C002"]["status"] == "已办结"


def test_coordinates_declared_wgs84_by_source_toml_are_not_shifted(world_engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "source.toml").write_text('crs = "wgs84"\n', encoding="utf-8")
    table = [case("C005", "熟溪街道解放街25号", lon=f"{DOOR_25[0]:.6f}", lat=f"{DOOR_25[1]:.6f}")]
    report = cases.load(world_engine, write_csv(tmp_path / "wgs.csv", table, "utf-8"))
    c005 = fetch(world_engine)["C005"]
    assert report.stats["flags"] == {} and c005["flags"] == [] and abs(c005["lon"] - DOOR_25[0]) < 1e-9
    with world_engine.connect() as conn:
        assert conn.execute(text("SELECT source_crs FROM cases")).scalar() == "EPSG:4326"


def test_a_file_without_case_numbers_fails_and_leaves_the_database_unchanged(
    world_engine: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("地址,上报时间\n熟溪街道解放街1号,2025-03-01 08:00:00\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="案件编号"):
        cases.load(world_engine, bad)
    with world_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 0
        assert conn.execute(text("SELECT status FROM etl_runs ORDER BY id DESC LIMIT 1")).scalar() == "failed"


def test_review_queue_lists_every_case_a_person_should_check(
    world_engine: Engine, schema_url: URL, tmp_path: Path
) -> None:
    cases.load(world_engine, write_csv(tmp_path / "cases.csv", rows(), "gbk"))
    with world_engine.connect() as conn:
        queue = review_queue(conn)
        assert review_count(conn) == len(queue) == 9
    by_number = {r["case_number"]: r for r in queue}
    assert [r["case_number"] for r in queue][:2] == ["C003", "C004"]  # unmatched first (newest first)
    assert {r["case_number"] for r in queue} == {f"C00{i}" for i in range(2, 10)} | {"C011"}  # C001 is clean
    assert {n: by_number[n]["has_point"] for n in ("C003", "C004")} == {"C003": False, "C004": True}
    assert by_number["C003"]["reason"] == "地址未匹配（地址不在武义县（永康市））"
    assert by_number["C007"]["reason"] == "经纬度颠倒"
    assert by_number["C009"]["reason"].startswith("仅定位到村社区；环节时间顺序颠倒")
    env = {**os.environ, "DATABASE_URL": schema_url.render_as_string(hide_password=False), "COLUMNS": "250"}
    out = subprocess.run(
        [sys.executable, "-m", "etl", "review", "--limit", "5"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "review queue (9 cases, the worst 5 shown)" in out
    assert "C003" in out and "C004" in out and "永康市" in out and "C001" not in out and "C011" not in out


def test_stage_time_parsing_and_checks() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    bounds = TimeBounds(dt.datetime(2000, 1, 1, tzinfo=TZ), now + dt.timedelta(hours=24))
    assert parse_time("2025/3/1 8:15", TZ) == dt.datetime(2025, 3, 1, 8, 15, tzinfo=TZ)
    assert parse_time("45717.5", TZ) == dt.datetime(2025, 3, 1, 12, tzinfo=TZ)
    assert parse_time("", TZ) is None
    with pytest.raises(ValueError):
        parse_time("昨天", TZ)
    times = parse_stages({"received_at": "2025-03-01 08:00:00", "closed_at": "2025-03-01 09:00:00"}, TZ, bounds).times
    ok = check_stages(times, None, now)
    assert ok.reject is None and ok.flags == ["time_missing_stage"]
    assert parse_stages({"received_at": "昨天"}, TZ, bounds).reject.startswith("received time")
    assert check_stages({}, None, now).reject == "received time (上报时间) is missing"
    closed = check_stages({"received_at": dt.datetime(2025, 3, 1, 8, tzinfo=TZ)}, "已办结", now)
    assert closed.flags == ["time_missing_stage"]
    bad = parse_stages({"received_at": "2025-03-01 08:00:00", "dispatched_at": "下午"}, TZ, bounds)
    assert bad.reject is None and bad.flags == ["time_unparseable"] and "dispatched_at" not in bad.times


def test_due_time_counts_working_days_over_holidays(region: Region) -> None:
    received = dt.datetime(2025, 9, 30, 10, tzinfo=TZ)
    # 10-01…10-08 are holidays, Saturday 10-11 is a make-up working day.
    complaint, general = region.time_limit("投诉举报"), region.time_limit("一般程序")
    assert due_at(received, complaint, region) == dt.datetime(2025, 10, 14, 23, 59, 59, 999999, tzinfo=TZ)
    assert due_at(received, general, region) == dt.datetime(2025, 12, 29, 23, 59, 59, 999999, tzinfo=TZ)
