"""Data integrity of the case load: partial re-exports, absurd dates, foreign files, concurrent loads, case numbers.

Every test writes real files (CSV GBK / UTF-8, XLSX), runs them through the real job (most through
``python -m etl load cases``) against the real database, and loads twice to show that the second
time changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from etl.jobs import cases
from etl.runs import lock_kind
from etl.upsert import merge
from geo.case_number import normalize_case_number
from geo.db import get_engine
from geo.models import Squad
from tests.etl.test_cases import HEADERS, TZ, case, rows, write_csv, write_xlsx

ALL_COLUMNS = (
    "case_number, category, domain, procedure_type, source, status, description, address, ST_AsText(geom), "
    "geocode_level, geocode_score, geocode_matched, township_code, village_code, source_crs, reported_squad, "
    "squad_code, segment_id, near_segment_id, near_segment_m, flags, received_at, dispatched_at, arrived_at, "
    "closed_at, due_at, time_limit, "
    "party_name, party_phone, party_id_number, complainant_name, complainant_phone, attrs, run_id, updated_at"
)


def cli(url: URL, *args: str) -> subprocess.CompletedProcess:
    """``python -m etl ARGS`` against the schema of ``url``."""
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False), "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "etl", *args], capture_output=True, text=True, env=env)


def snapshot(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT {ALL_COLUMNS} FROM cases ORDER BY case_number"))]


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def last_run(engine: Engine) -> dict:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM etl_runs ORDER BY id DESC LIMIT 1")).mappings().one()
    return dict(row)


# -- 1. a partial re-export ------------------------------------------------------------------
def test_a_partial_reexport_leaves_what_it_does_not_carry(
    world_engine: Engine, schema_url: URL, tmp_path: Path
) -> None:
    assert cases.load(world_engine, write_csv(tmp_path / "full.csv", rows()[:2], "gbk")).loaded == 2
    before = snapshot(world_engine)
    assert {r[0]: r[9] for r in before} == {"C001": "门牌", "C002": "小区或地点"}

    # Only 案件编号 and 上报时间: nothing else may change, nothing is geocoded again.
    partial = write_csv(
        tmp_path / "partial.csv",
        [["C001", "2025-03-03 09:00:00"], ["C002", "2025-03-05 10:00:00"]],
        "utf-8",
        ["案件编号", "上报时间"],
    )
    done = cli(schema_url, "load", "cases", str(partial))
    assert done.returncode == 0, done.stderr
    run = last_run(world_engine)
    assert run["status"] == "succeeded" and (run["rows_read"], run["rows_loaded"], run["rows_rejected"]) == (2, 2, 0)
    assert run["stats"]["updated"] == 0 and run["stats"]["changed_fields"] == {}
    assert sum(run["stats"]["geocode_levels"].values()) == 0  # no address came: nothing geocoded
    assert run["stats"]["point_sources"] == {"coordinates": 1, "address": 1}  # the stored points stay
    assert snapshot(world_engine) == before
    # Empty cells in columns the file has leave the stored values too (blanks do not clear by default).
    blanks = write_csv(
        tmp_path / "blanks.csv",
        [["C001", "", "", "", "", "", ""], ["C002", "2025-03-05 10:00:00", "", "", "", "", ""]],
        "gbk",
        ["案件编号", "上报时间", "地址", "当事人", "所属中队", "经度", "纬度"],
    )
    assert cli(schema_url, "load", "cases", str(blanks)).returncode == 0
    assert last_run(world_engine)["rows_rejected"] == 0
    assert snapshot(world_engine) == before
    assert scalar(world_engine, "SELECT count(*) FROM change_history") == 0


def test_every_change_is_kept_in_the_history_and_counted_per_run(
    world_engine: Engine, schema_url: URL, tmp_path: Path
) -> None:
    assert cases.load(world_engine, write_csv(tmp_path / "full.csv", rows()[:2], "utf-8-sig")).loaded == 2
    before = {r[0]: r for r in snapshot(world_engine)}
    update = write_xlsx(
        tmp_path / "closed.xlsx",
        [["C002", "已办结", "2025-03-05 15:00:00", "2025-03-05 10:30:00"]],
        ["案件编号", "案件状态", "办结时间", "到场时间"],
    )
    for attempt in range(2):  # the second, forced load of the same file changes nothing
        done = cli(schema_url, "load", "cases", str(update), *(["--force"] if attempt else []))
        assert done.returncode == 0, done.stderr
        run = last_run(world_engine)
        assert run["status"] == "succeeded"
        if attempt == 0:
            first_run = run["id"]
            assert run["stats"]["updated"] == 1
            changed = run["stats"]["changed_fields"]
            assert {"status", "closed_at", "arrived_at"} <= set(changed) and set(changed) <= {
                "status",
                "closed_at",
                "arrived_at",
                "flags",
            }
        else:
            assert run["stats"]["updated"] == 0 and run["stats"]["changed_fields"] == {}
    with world_engine.connect() as conn:
        history = {
            r.field: r
            for r in conn.execute(
                text("SELECT field, old_value, new_value, run_id, record_key, changed_at FROM change_history")
            )
        }
    assert history["status"].old_value == "处理中" and history["status"].new_value == "已办结"
    assert history["closed_at"].old_value is None and history["closed_at"].new_value.startswith("2025-03-05")
    assert {h.run_id for h in history.values()} == {first_run} and {h.record_key for h in history.values()} == {"C002"}
    after = {r[0]: r for r in snapshot(world_engine)}
    assert after["C001"] == before["C001"]
    assert after["C002"][7:18] == before["C002"][7:18]  # address, point, geocode, squad untouched
    runs = cli(schema_url, "runs")
    assert "1 (" in runs.stdout and "status 1" in runs.stdout

    # A new address: geocoded again; C002's point (from its address) moves, C001 keeps its phone point.
    moved = write_csv(
        tmp_path / "moved.csv",
        [["C001", "熟溪街道解放街3号"], ["C002", "熟溪街道熟溪路8号"]],
        "utf-8",
        ["案件编号", "地址"],
    )
    assert cli(schema_url, "load", "cases", str(moved)).returncode == 0
    run = last_run(world_engine)
    assert run["stats"]["updated"] == 2 and run["stats"]["changed_fields"]["address"] == 2
    assert run["stats"]["changed_fields"]["geom"] == 1
    with world_engine.connect() as conn:
        geom = conn.execute(
            text("SELECT record_key, old_value, new_value FROM change_history WHERE field = 'geom'")
        ).one()
        points = dict(conn.execute(text("SELECT case_number, ST_AsText(geom) FROM cases")).all())
    assert geom.record_key == "C002" and geom.old_value["type"] == "Point" and geom.new_value["type"] == "Point"
    assert points["C001"] == before["C001"][8]


def test_a_mapping_that_says_blanks_clear_erases_and_keeps_the_old_value(
    world_engine: Engine, schema_url: URL, tmp_path: Path
) -> None:
    assert cases.load(world_engine, write_csv(tmp_path / "full.csv", rows()[:2], "gbk")).loaded == 2
    file = write_csv(tmp_path / "cleared.csv", [["C001", "", ""]], "utf-8", ["案件编号", "当事人", "当事人电话"])
    assert cli(schema_url, "load", "cases", str(file)).returncode == 0
    assert scalar(world_engine, "SELECT party_name FROM cases WHERE case_number = 'C001'") == "张三"
    mapping = tmp_path / "clear.toml"
    mapping.write_text("[cases]\nblanks_clear = true\n", encoding="utf-8")
    # Same file, other mapping: other input (not skipped as identical).
    done = cli(schema_url, "load", "cases", str(file), "--mapping", str(mapping))
    assert done.returncode == 0, done.stderr
    assert last_run(world_engine)["status"] == "succeeded"
    assert scalar(world_engine, "SELECT party_name FROM cases WHERE case_number = 'C001'") is None
    with world_engine.connect() as conn:
        kept = conn.execute(text("SELECT field, old_value, new_value FROM change_history ORDER BY field")).all()
    assert [tuple(k) for k in kept] == [("party_name", "张三", None), ("party_phone", "13800000000", None)]
    assert cli(schema_url, "load", "cases", str(file), "--mapping", str(mapping)).returncode == 0
    assert last_run(world_engine)["status"] == "skipped"


def test_the_generic_merge_keeps_columns_a_row_does_not_carry(schema_engine: Engine) -> None:
    table = Squad.__table__
    with schema_engine.begin() as conn:
        first = merge(conn, table, [{"code": "ZD01", "name": "熟溪中队", "phone": "1", "officers": 9}], ["code"])
        second = merge(
            conn,
            table,
            [{"code": "ZD01", "name": "熟溪中队", "phone": "2"}, {"code": "ZD02", "name": "白洋中队"}],
            ["code"],
            history_run=None,
        )
        rows = conn.execute(text("SELECT code, phone, officers FROM squads ORDER BY code")).all()
    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (1, 1, 1, 0)
    assert second.fields == {"phone": 1}
    assert [tuple(r) for r in rows] == [("ZD01", "2", 9), ("ZD02", None, None)]


# -- 2. absurd dates -------------------------------------------------------------------------
def test_one_absurd_date_rejects_its_row_and_the_others_load(
    world_engine: Engine, schema_url: URL, tmp_path: Path
) -> None:
    later = ("", "", "", "")
    table = [
        case("D001", "熟溪街道解放街25号"),
        case("D002", "熟溪街道解放街25号", times=("9999-12-31 23:59:59", *later[1:])),
        case("D003", "熟溪街道解放街25号", times=("1999-12-31 10:00:00", *later[1:])),
        case("D004", "熟溪街道解放街25号", times=("45321.5", *later[1:])),  # Excel serial: 2024-01-30 12:00
        case("D005", "熟溪街道解放街25号", times=("2025-03-03 09:00:00", "2031-01-01 00:00:00", "", "")),
        case("D006", "阳光小区门口"),
    ]
    path = write_csv(tmp_path / "dates.csv", table, "gbk")
    done = cli(schema_url, "load", "cases", str(path))
    assert done.returncode == 0, done.stderr
    run = last_run(world_engine)
    assert run["status"] == "succeeded"
    assert (run["rows_read"], run["rows_loaded"], run["rows_rejected"]) == (6, 3, 3)
    with world_engine.connect() as conn:
        rejects = conn.execute(
            text("SELECT raw->>'案件编号', reason FROM etl_rejects WHERE run_id = :r ORDER BY row_number"),
            dict(r=run["id"]),
        ).all()
        loaded = dict(conn.execute(text("SELECT case_number, received_at FROM cases")).all())
    reasons = dict(rejects)
    assert set(reasons) == {"D002", "D003", "D005"}
    assert "9999-12-31" in reasons["D002"] and "future" in reasons["D002"]
    assert "before 2000-01-01" in reasons["D003"]
    assert "dispatch" in reasons["D005"] and "2031-01-01" in reasons["D005"]
    assert loaded["D004"] == dt.datetime(2024, 1, 30, 12, tzinfo=TZ)
    assert set(loaded) == {"D001", "D004", "D006"}
    before = snapshot(world_engine)
    assert cli(schema_url, "load", "cases", str(path), "--force").returncode == 0
    assert last_run(world_engine)["stats"]["updated"] == 0 and snapshot(world_engine) == before


def test_excel_dates_load_from_real_date_cells_and_serial_numbers(world_engine: Engine, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append([*case("X001", "熟溪街道解放街25号")[:8], dt.datetime(2025, 3, 3, 9, 0), *[""] * 11])
    sheet.append([*case("X002", "熟溪街道解放街25号")[:8], 45321.5, *[""] * 11])
    sheet.append([*case("X003", "熟溪街道解放街25号")[:8], 2958465.99999, *[""] * 11])  # 9999-12-31 as a serial
    book.save(tmp_path / "dates.xlsx")
    report = cases.load(world_engine, tmp_path / "dates.xlsx")
    assert (report.read, report.loaded, report.rejected) == (3, 2, 1)
    with world_engine.connect() as conn:
        got = dict(conn.execute(text("SELECT case_number, received_at FROM cases")).all())
        reason = conn.execute(text("SELECT reason FROM etl_rejects")).scalar()
    assert got == {"X001": dt.datetime(2025, 3, 3, 9, tzinfo=TZ), "X002": dt.datetime(2024, 1, 30, 12, tzinfo=TZ)}
    assert "not a time" in reason


# -- 4. concurrent loads ---------------------------------------------------------------------
def test_a_load_waits_while_another_load_of_its_kind_runs(
    world_engine: Engine, schema_url: URL, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "cases.csv", rows()[:2], "gbk")
    env = {**os.environ, "DATABASE_URL": schema_url.render_as_string(hide_password=False)}
    holder = get_engine(schema_url).connect()
    try:
        with holder.begin():
            lock_kind(holder, "cases")
            process = subprocess.Popen(
                [sys.executable, "-m", "etl", "load", "cases", str(path)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(6)
            assert process.poll() is None, process.communicate()  # still waiting for the lock
            assert scalar(world_engine, "SELECT count(*) FROM cases") == 0
    finally:
        holder.close()
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert scalar(world_engine, "SELECT count(*) FROM cases") == 2


def test_two_case_loads_at_once_both_finish(world_engine: Engine, schema_url: URL, tmp_path: Path) -> None:
    numbers = [f"K{i:04d}" for i in range(400)]
    forward = [case(n, f"熟溪街道解放街{i % 49 + 1}号", status=f"状态{i}") for i, n in enumerate(numbers)]
    backward = [case(n, f"熟溪街道解放街{i % 49 + 1}号") for i, n in reversed(list(enumerate(numbers)))]
    a = write_csv(tmp_path / "a.csv", forward, "gbk")
    b = write_xlsx(tmp_path / "b.xlsx", backward)
    results: dict[str, subprocess.CompletedProcess] = {}

    def run(name: str, path: Path) -> None:
        results[name] = cli(schema_url, "load", "cases", str(path))

    threads = [threading.Thread(target=run, args=(n, p)) for n, p in (("a", a), ("b", b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert results["a"].returncode == 0, results["a"].stderr
    assert results["b"].returncode == 0, results["b"].stderr
    with world_engine.connect() as conn:
        runs = conn.execute(text("SELECT status, rows_loaded FROM etl_runs WHERE job = 'cases'")).all()
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 400
    assert sorted(tuple(r) for r in runs) == [("succeeded", 400), ("succeeded", 400)]


# -- 5. foreign files ------------------------------------------------------------------------
US_MAPPING = """
[cases]
case_number = ["Unique Key"]
received_at = ["Created Date"]
closed_at = ["Closed Date"]
category = ["Complaint Type"]
address = ["Incident Address"]
lon = ["Longitude"]
lat = ["Latitude"]
date_formats = ["%m/%d/%Y %I:%M:%S %p"]
"""


def us_311_export(path: Path, rows: int) -> Path:
    header = [
        "Unique Key",
        "Created Date",
        "Closed Date",
        "Complaint Type",
        "Incident Address",
        "Longitude",
        "Latitude",
    ]
    body = [
        [
            str(59_000_000 + i),
            f"03/{i % 28 + 1:02d}/2024 0{i % 9 + 1}:15:00 PM",
            "",
            "Noise - Residential",
            f"{100 + i} BROADWAY",
            f"{-73.99 + i * 1e-4:.6f}",
            f"{40.72 + i * 1e-4:.6f}",
        ]
        for i in range(rows)
    ]
    return write_csv(path, body, "utf-8", header)


def test_a_foreign_file_stops_unless_accepted(world_engine: Engine, schema_url: URL, tmp_path: Path) -> None:
    export = us_311_export(tmp_path / "311.csv", 40)
    mapping = tmp_path / "us.toml"
    mapping.write_text(US_MAPPING, encoding="utf-8")
    done = cli(schema_url, "load", "cases", str(export), "--mapping", str(mapping), "--crs", "wgs84")
    assert done.returncode != 0
    assert "40 of 40" in done.stdout + done.stderr and "--accept-foreign" in done.stdout + done.stderr
    run = last_run(world_engine)
    assert run["status"] == "failed" and "outside 武义县" in run["error"]
    assert scalar(world_engine, "SELECT count(*) FROM cases") == 0
    accepted = cli(
        schema_url, "load", "cases", str(export), "--mapping", str(mapping), "--crs", "wgs84", "--accept-foreign"
    )
    assert accepted.returncode == 0, accepted.stderr
    run = last_run(world_engine)
    assert run["status"] == "succeeded" and run["rows_loaded"] == 40 and "accept-foreign" in run["warnings"][0]
    received = scalar(world_engine, "SELECT received_at FROM cases WHERE case_number = '59000000'")
    assert received == dt.datetime(2024, 3, 1, 13, 15, tzinfo=TZ)  # the mapping's US date format
    again = cli(
        schema_url, "load", "cases", str(export), "--mapping", str(mapping), "--crs", "wgs84", "--accept-foreign"
    )
    assert again.returncode == 0 and last_run(world_engine)["status"] == "skipped"


def test_a_county_file_with_a_few_foreign_rows_loads(world_engine: Engine, tmp_path: Path) -> None:
    table = [case(f"F{i:03d}", "熟溪街道解放街25号") for i in range(12)]
    table += [case(f"G{i:03d}", "永康市西城街道解放路8号") for i in range(11)]  # 11 of 23: under the share
    report = cases.load(world_engine, write_csv(tmp_path / "mixed.csv", table, "gbk"))
    assert report.status == "succeeded" and report.loaded == 23 and report.warnings == ()


# -- 6. case numbers -------------------------------------------------------------------------
def test_case_numbers_are_normalised_everywhere_they_come_in(world_engine: Engine, tmp_path: Path) -> None:
    assert normalize_case_number(" ＲＴ-ｄｕｐ－１\u3000") == "RT-DUP-1"
    first = write_csv(
        tmp_path / "a.csv", [case("ＲＴ-DUP-1", "熟溪街道解放街25号"), case("rt-dup-2 ", "阳光小区")], "gbk"
    )
    report = cases.load(world_engine, first)
    assert report.loaded == 2
    second = write_xlsx(tmp_path / "b.xlsx", [case("RT-DUP-1", "熟溪街道解放街25号", status="处理中")])
    again = cases.load(world_engine, second)
    assert (again.stats["inserted"], again.stats["updated"]) == (0, 1)
    with world_engine.connect() as conn:
        got = dict(conn.execute(text("SELECT case_number, status FROM cases")).all())
    assert got == {"RT-DUP-1": "处理中", "RT-DUP-2": "已办结"}
    both = write_csv(tmp_path / "c.csv", [case("ＲＴ-DUP-3", "阳光小区"), case("RT-DUP-3", "阳光小区")], "utf-8")
    report = cases.load(world_engine, both)
    assert (report.loaded, report.rejected) == (1, 1)


@pytest.mark.parametrize("value", ["", None, "   "])
def test_an_empty_case_number_normalises_to_empty(value: str | None) -> None:
    assert normalize_case_number(value) == ""
