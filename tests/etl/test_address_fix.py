"""An admin fixes a case's address; the geocoder learns it, so the next import of that address needs no review."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from etl.jobs import cases
from geo.address_fix import MANUAL, MANUAL_REGEOCODE, fix_case_address
from geo.case_review import review_condition
from geo.errors import RequestError
from geo.geocode import load_geocoder

from .test_cases import DOOR_25, case, fetch, write_csv

VAGUE = "熟溪街道老菜场后面小弄堂里"  # nothing the gazetteer knows: unmatched or coarse, so in review
PLACED = (119.8051, 28.8903)  # near 解放街25号, in 熟溪中队's jurisdiction


def _in_review(engine: Engine, number: str) -> bool:
    with engine.connect() as conn:
        sql = f"SELECT {review_condition('c')} FROM cases c WHERE case_number = :n"
        return bool(conn.execute(text(sql), {"n": number}).scalar_one())


def _case_id(engine: Engine, number: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM cases WHERE case_number = :n"), {"n": number}).scalar_one()


def test_a_point_placed_on_the_map_is_learnt_by_the_next_import(world_engine: Engine, tmp_path: Path) -> None:
    cases.load(world_engine, write_csv(tmp_path / "first.csv", [case("F001", VAGUE)], "utf-8"))
    assert _in_review(world_engine, "F001")
    with world_engine.begin() as conn:
        done = fix_case_address(
            conn, _case_id(world_engine, "F001"), load_geocoder(conn), point=PLACED, username="admin"
        )
    assert done.source == MANUAL and done.learnt_key and done.before["level"] != "门牌"
    fixed = fetch(world_engine)["F001"]
    assert (round(fixed["lon"], 6), round(fixed["lat"], 6)) == PLACED and fixed["geocode_level"] == "门牌"
    assert fixed["attrs"]["geocode_source"] == MANUAL and fixed["attrs"]["fixed_by"] == "admin"
    assert not _in_review(world_engine, "F001"), fixed
    # The same raw address again, through the real case job: located at the placed point, no review.
    report = cases.load(
        world_engine, write_csv(tmp_path / "second.csv", [case("F002", VAGUE), case("F001", VAGUE)], "utf-8")
    )
    assert report.status == "succeeded" and report.read == report.loaded == 2
    got = fetch(world_engine)
    for number in ("F001", "F002"):
        assert got[number]["geocode_level"] == "门牌", number
        assert (round(got[number]["lon"], 6), round(got[number]["lat"], 6)) == PLACED, number
        assert not _in_review(world_engine, number), number


def test_a_corrected_text_is_geocoded_again_and_a_vague_one_is_refused(world_engine: Engine, tmp_path: Path) -> None:
    cases.load(world_engine, write_csv(tmp_path / "first.csv", [case("F003", VAGUE)], "utf-8"))
    case_id = _case_id(world_engine, "F003")
    before = fetch(world_engine)["F003"]
    with world_engine.begin() as conn, pytest.raises(RequestError, match="无法精确定位"):
        fix_case_address(conn, case_id, load_geocoder(conn), address="熟溪街道某处")
    assert fetch(world_engine)["F003"] == before  # refused: nothing changed
    with world_engine.begin() as conn:
        done = fix_case_address(conn, case_id, load_geocoder(conn), address="熟溪街道解放街２５号", username="admin")
    assert done.source == MANUAL_REGEOCODE and done.address == "熟溪街道解放街25号"
    fixed = fetch(world_engine)["F003"]
    assert fixed["attrs"]["geocode_source"] == MANUAL_REGEOCODE and not _in_review(world_engine, "F003")
    assert abs(fixed["lon"] - DOOR_25[0]) < 0.0005 and abs(fixed["lat"] - DOOR_25[1]) < 0.0005
    cases.load(world_engine, write_csv(tmp_path / "second.csv", [case("F004", VAGUE)], "utf-8"))
    assert fetch(world_engine)["F004"]["geocode_level"] == "门牌" and not _in_review(world_engine, "F004")


def test_the_case_job_stores_text_width_folded(world_engine: Engine, tmp_path: Path) -> None:
    cases.load(world_engine, write_csv(tmp_path / "wide.csv", [case("F005", "熟溪街道解放街２５号　Ａ座")], "utf-8"))
    with world_engine.connect() as conn:
        address = conn.execute(text("SELECT address FROM cases WHERE case_number = 'F005'")).scalar_one()
    assert address == "熟溪街道解放街25号\u3000A座"  # digits and letters folded; the ideographic space stays
