"""The duty roster load (排班: 工号/日期/开始/结束): periods per officer and day, night shifts, rejects with
reasons, counts that reconcile, and a corrected roster that replaces the days it lists."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from etl.jobs.roster import load
from tests.layers.conftest import local

ROSTER = """工号,日期,开始,结束,中队
JL001,2026-03-10,08:00,12:00,
JL001,2026/3/10,14:00,18:00,
JL002,2026-03-10,22:00,06:00,
JL999,2026-03-10,08:00,12:00,
JL002,2026-03-11,8点,12:00,
JL001,2026-03-10,08:00,11:00,
"""


def _periods(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT chief_code, duty_date, starts_at, ends_at, squad_code FROM duty_roster ORDER BY 1, 3")
            )
        ]


def test_roster_rows_load_as_duty_periods_and_bad_rows_keep_their_reason(schema_engine: Engine, tmp_path: Path) -> None:
    with schema_engine.begin() as conn:
        conn.execute(text("INSERT INTO squads (code, name) VALUES ('ZD01', '熟溪中队')"))
        conn.execute(
            text(
                "INSERT INTO street_chiefs (code, name, squad_code) VALUES ('JL001', '甲', 'ZD01'), "
                "('JL002', '乙', 'ZD01')"
            )
        )
    folder = tmp_path / "roster"
    folder.mkdir()
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8-sig")
    report = load(schema_engine, folder)
    assert (report.status, report.read, report.loaded, report.rejected) == ("succeeded", 6, 3, 3)
    assert _periods(schema_engine) == [
        ("JL001", local(2026, 3, 10, 8, 0).date(), local(2026, 3, 10, 8, 0), local(2026, 3, 10, 12, 0), "ZD01"),
        ("JL001", local(2026, 3, 10, 8, 0).date(), local(2026, 3, 10, 14, 0), local(2026, 3, 10, 18, 0), "ZD01"),
        ("JL002", local(2026, 3, 10, 8, 0).date(), local(2026, 3, 10, 22, 0), local(2026, 3, 11, 6, 0), "ZD01"),
    ]
    with schema_engine.connect() as conn:
        reasons = list(
            conn.execute(
                text("SELECT reason FROM etl_rejects WHERE run_id = :r ORDER BY row_number"), {"r": report.run_id}
            ).scalars()
        )
    assert "JL999" in reasons[0] and "not a known street chief code" in reasons[0]
    assert "开始" in reasons[1] and "8点" in reasons[1]
    assert "duplicate duty period" in reasons[2]
    assert load(schema_engine, folder).status == "skipped"  # the same file again changes nothing
    assert len(_periods(schema_engine)) == 3

    # a corrected roster for JL001 on 2026-03-10 replaces that day's periods, leaves JL002's alone
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    (fixed / "roster.csv").write_text("工号,日期,开始,结束\nJL001,2026-03-10,09:00,17:00\n", encoding="utf-8")
    assert load(schema_engine, fixed).loaded == 1
    periods = _periods(schema_engine)
    assert [(p[0], p[2]) for p in periods] == [
        ("JL001", local(2026, 3, 10, 9, 0)),
        ("JL002", local(2026, 3, 10, 22, 0)),
    ]
