"""Benchmark the case search (``layers.queries.case_records``) on synthetic data at demo scale: with the pg_trgm
indexes, without them (sequential scan, as before migration 1102), and what the length bound and the
reader's statement_timeout do to hostile input.

Usage: ``.venv/bin/python bench/bench_search.py [--scale 1] [--runs 7]``

Uses the benchmark database of ``bench/bench_layers.py`` (``<db>_bench<scale>``, 28 000 × scale cases),
gives its cases realistic addresses and descriptions once, and prints medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_layers import bench_url, fill
from geo.db import get_engine, statement_cancelled
from geo.db.roles import READER, with_option, with_role
from geo.errors import RequestError
from layers.base import LayerParams
from layers.queries.case_records import MAX_SEARCH_CHARS, case_count, case_rows

# Realistic text: addresses by township, road and door number; descriptions from case-report phrases.
TEXTS = """
UPDATE cases c SET
  address = '武义县'
            || (ARRAY['熟溪街道','壶山街道','白洋街道','履坦镇','桐琴镇','泉溪镇','王宅镇','桃溪镇'])[1 + c.id % 8]
            || (ARRAY['解放街','熟溪路','壶山路','温泉路','武阳路','永康街','江滨路','环城南路','东岳路'])
               [1 + (c.id / 8) % 9]
            || (1 + c.id % 197) || '号' || CASE WHEN c.id % 5 = 0 THEN '附近' ELSE '' END,
  description = (ARRAY['店外占道经营，摆放货架','工地出入口车辆带泥上路','未经审批设置户外广告牌','沿街晾晒衣物',
                       '渣土车未密闭运输','违法搭建彩钢棚约20平方米','秸秆露天焚烧','人行道机动车违停','餐饮油烟直排',
                       '夜间施工噪音扰民，群众投诉'])[1 + c.id % 10] || '，编号' || c.id
WHERE c.description IS NULL
"""
SEARCHES = {
    "case number (WY0001234)": "WY0001234",
    "road + number (解放街12号)": "解放街12号",
    "phrase (户外广告)": "户外广告",
    "two characters (违停)": "违停",
    "no match (不存在的地址)": "不存在的地址",
    f"{MAX_SEARCH_CHARS} characters": "解放街" * (MAX_SEARCH_CHARS // 3),
}


def median_ms(call, runs: int) -> float:
    """Median wall time of ``call()`` over ``runs`` calls, in ms."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _count_statement(conn, search: str) -> tuple[str, dict]:
    """The SQL and parameters :func:`case_count` runs for ``search`` (captured, not copied)."""
    seen: list[tuple[str, dict]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", keep)
    try:
        case_count(conn, LayerParams(), search=search)
    finally:
        event.remove(conn, "before_cursor_execute", keep)
    return next((sql, binds) for sql, binds in reversed(seen) if sql.lstrip().startswith("SELECT"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = bench_url(args.scale)
    fill(url, args.scale, regenerate=False)
    engine = get_engine(url)
    with engine.begin() as conn:
        if conn.execute(text("SELECT count(*) FROM cases WHERE description IS NULL")).scalar_one():
            conn.execute(text(TEXTS))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE cases"))
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    print(f"case search, {cases} cases (scale {args.scale}), medians of {args.runs} runs")
    print("  page = case_rows (first 500, masked, local times) + case_count, as the grid asks, end to end;")
    print("  count SQL = the layer's own count statement alone, with the trigram indexes and forced to a seq scan")
    print(f"{'search':30} {'page ms':>9} {'count SQL ms':>13} {'seq scan ms':>12} {'rows':>6}")
    params = LayerParams()
    for label, search in SEARCHES.items():
        with engine.connect() as conn:

            def page(conn=conn, search=search) -> int:
                case_rows(conn, params, search=search, limit=500)
                return case_count(conn, params, search=search)

            rows = page()
            page_ms = median_ms(page, args.runs)
            sql, binds = _count_statement(conn, search)
            indexed = median_ms(
                lambda conn=conn, sql=sql, binds=binds: conn.exec_driver_sql(sql, binds).all(), args.runs
            )
            conn.exec_driver_sql("SET enable_bitmapscan = off")
            conn.exec_driver_sql("SET enable_indexscan = off")
            seq = median_ms(lambda conn=conn, sql=sql, binds=binds: conn.exec_driver_sql(sql, binds).all(), args.runs)
            conn.rollback()
        print(f"{label:30} {page_ms:9.1f} {indexed:13.1f} {seq:12.1f} {rows:6d}")

    # Hostile input: refused before SQL by the bound; the reader's timeout stops any runaway statement.
    started = time.perf_counter()
    try:
        case_count(None, params, search="x" * 30_000)  # type: ignore[arg-type]
    except RequestError:
        print(f"30 KB search: refused by the length bound in {(time.perf_counter() - started) * 1000:.2f} ms")
    with engine.connect() as conn:
        pattern = "%" + "x" * 30_000 + "%"
        started = time.perf_counter()
        conn.execute(text("SET enable_bitmapscan = off")).close()
        conn.execute(
            text("SELECT count(*) FROM cases WHERE address ILIKE :q OR description ILIKE :q"), {"q": pattern}
        ).scalar_one()
        print(f"30 KB pattern without the bound, sequential scan: {time.perf_counter() - started:.2f} s")
        conn.rollback()
    reader = get_engine(with_option(with_role(url, READER), "statement_timeout", "1000"))
    with reader.connect() as conn:
        started = time.perf_counter()
        try:
            conn.execute(text("SELECT pg_sleep(5)"))
        except Exception as exc:
            kind = "cancelled by statement_timeout" if statement_cancelled(exc) else type(exc).__name__
            print(f"5 s statement as {READER} with a 1 s timeout: {kind} after {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
