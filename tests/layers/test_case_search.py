"""The case search cannot hold the database: its input is bounded, it runs on trigram indexes, and the
dashboard's reader role cancels any statement that runs too long."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import OperationalError

from geo.errors import RequestError
from geo.geocode.normalize import fold_width
from layers.base import LayerParams, Scope
from layers.queries.case_records import (
    MAX_SEARCH_CHARS,
    SEARCH_COLUMNS,
    case_count,
    case_number_match,
    case_rows,
    review_count,
    review_queue,
)

from .conftest import Seed, local


def test_a_search_longer_than_the_bound_is_refused_with_a_chinese_message(db: Connection, seed: Seed) -> None:
    seed.case(119.805, 28.89, local(2025, 3, 1, 9), address="解放街12号")
    assert case_rows(db, LayerParams(), search="解" * MAX_SEARCH_CHARS).empty  # at the bound: searched
    for search in ("解" * (MAX_SEARCH_CHARS + 1), "x" * 30_000):
        with pytest.raises(RequestError, match=f"搜索内容过长.*最多 {MAX_SEARCH_CHARS} 个字符"):
            case_rows(db, LayerParams(), search=search)
        with pytest.raises(RequestError):
            case_count(db, LayerParams(), search=search)
    assert len(case_rows(db, LayerParams(), search="  解放街  ")) == 1  # surrounding blanks are not searched


def _statements_of(db: Connection, call) -> list[tuple[str, dict]]:
    seen: list[tuple[str, dict]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters))

    event.listen(db, "before_cursor_execute", keep)
    try:
        call()
    finally:
        event.remove(db, "before_cursor_execute", keep)
    return seen


def test_the_search_query_is_answered_from_the_trigram_indexes(db: Connection, seed: Seed) -> None:
    seed.case(119.805, 28.89, local(2025, 3, 1, 9), address="武义县熟溪街道解放街12号", description="占道经营水果摊")
    db.execute(
        text(
            """INSERT INTO cases (case_number, category, address, description, received_at)
               SELECT 'BULK' || g, '占道经营', '武义县壶山街道温泉路' || g || '号', '店外占道经营，已劝离' || g,
                      now() - g * interval '1 hour'
               FROM generate_series(1, 5000) g"""
        )
    )
    db.execute(text("ANALYZE cases"))
    db.execute(text("SET LOCAL enable_seqscan = off"))  # a small table: ask whether the index *can* serve it
    statements = _statements_of(db, lambda: case_count(db, LayerParams(), search="解放街"))
    sql, parameters = statements[-1]
    plan = "\n".join(row[0] for row in db.exec_driver_sql("EXPLAIN " + sql, parameters))
    for column in SEARCH_COLUMNS:
        assert f"ix_cases_{column}_trgm" in plan, plan
    assert "Seq Scan on cases" not in plan, plan
    assert case_count(db, LayerParams(), search="解放街") == 1


def test_a_statement_longer_than_the_reader_timeout_is_cancelled(schema_url: URL, monkeypatch) -> None:
    from dashboard.data import DataUnavailable, read
    from geo.db import reader_engine, statement_cancelled
    from geo.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", schema_url.render_as_string(hide_password=False))
    monkeypatch.setenv("EGIS_READER_TIMEOUT_S", "0.3")
    get_settings.cache_clear()
    try:
        with reader_engine().connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "300ms"
            assert conn.execute(text("SELECT current_user")).scalar() == "egis_reader"
            with pytest.raises(OperationalError) as cancelled:
                conn.execute(text("SELECT pg_sleep(3)"))
        assert statement_cancelled(cancelled.value)
        with pytest.raises(DataUnavailable, match="查询超时"):  # the page says so, in Chinese
            read(lambda conn: conn.execute(text("SELECT pg_sleep(3)")).scalar())
    finally:
        get_settings.cache_clear()


def test_full_width_and_half_width_find_each_other_on_the_trigram_index(db: Connection, seed: Seed) -> None:
    # Stored folded (the case job folds what it loads, migration 1302 folded what was there) …
    seed.case(119.805, 28.89, local(2025, 3, 1, 9), address=fold_width("武义县解放街１８８号"))
    seed.case(119.806, 28.89, local(2025, 3, 2, 9), address="武义县解放街189号")
    # … and the query folded the same way: either spelling finds the case.
    assert list(case_rows(db, LayerParams(), search="解放街188")["address"]) == ["武义县解放街188号"]
    assert list(case_rows(db, LayerParams(), search="解放街１８８")["address"]) == ["武义县解放街188号"]
    assert case_count(db, LayerParams(), search="ｊｉｅ") == 0
    db.execute(text("SET LOCAL enable_seqscan = off"))
    statements = _statements_of(db, lambda: case_count(db, LayerParams(), search="解放街１８８"))
    sql, parameters = statements[-1]
    assert parameters["q"] == "%解放街188%"
    plan = "\n".join(row[0] for row in db.exec_driver_sql("EXPLAIN " + sql, parameters))
    assert "ix_cases_address_trgm" in plan and "Seq Scan on cases" not in plan, plan


def test_migration_1302_folds_the_stored_text(db: Connection, seed: Seed) -> None:
    """The migration's frozen table is the same as fold_width's (one rule, two times)."""
    import importlib

    migration = importlib.import_module("geo.migrations.versions.1302_address_points_width_folding")
    every = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
    assert every.translate(str.maketrans(migration._FULL, migration._HALF)) == fold_width(every)


def test_a_case_number_is_found_whatever_the_window(db: Connection, seed: Seed) -> None:
    seed.case(119.805, 28.89, local(2019, 3, 1, 9), case_number="WY201900123", squad_code="ZD01")
    seed.case(119.805, 28.89, local(2025, 3, 1, 9), case_number="WY202500001", squad_code="ZD01")
    window = LayerParams(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    assert case_count(db, window, search="WY201900123") == 0  # the window alone would hide it
    assert case_number_match(db, window, "ｗｙ201900123 ") == "WY201900123"  # full width, lower case, blanks
    assert case_number_match(db, window, "WY2019") is None  # a part of a number is a search, not a number
    other_squad = LayerParams(start=dt.date(2025, 1, 1), scope=Scope(squads=("ZD02",)))
    assert case_number_match(db, other_squad, "WY201900123") is None  # the scope still applies
    rows = case_rows(db, LayerParams(), case_number="WY201900123")
    assert list(rows["case_number"]) == ["WY201900123"]


def test_the_review_queue_pages_through_every_case(db: Connection, seed: Seed) -> None:
    for day in range(1, 8):
        seed.case(None, None, local(2025, 3, day, 9), address=f"不详{day}")
    params = LayerParams()
    assert review_count(db, params) == 7
    pages = [review_queue(db, params, limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [len(p) for p in pages] == [3, 3, 1]
    seen = [n for page in pages for n in page["case_number"]]
    assert sorted(seen) == sorted(review_queue(db, params, limit=None)["case_number"]) and len(set(seen)) == 7
    assert all(page["review_reason"].str.startswith("地址未匹配").all() for page in pages)
