"""Case rows for grids and exports: filters, scope restrictions, masking, drill-downs."""

from __future__ import annotations

import h3
import pytest
from sqlalchemy.engine import Connection

from etl import review as review_cli
from layers.base import LayerParams, Scope
from layers.queries.case_records import (
    EXPORT_HEADERS,
    CaseLevelAccessError,
    case_count,
    case_counts,
    case_rows,
    review_count,
    review_queue,
)

from .conftest import Seed, local

PERSON = {"party_name": "张三丰", "party_phone": "13812341234", "party_id_number": "330723199001011234"}


def _cases(seed: Seed) -> dict[str, int]:
    s1 = seed.segment("s1", [(119.80, 28.89), (119.81, 28.89)], squad_code="ZD01")
    s2 = seed.segment("s2", [(119.82, 28.89), (119.83, 28.89)], squad_code="ZD02")
    seed.chief("C001", "李街长", "ZD01", [s1])
    ids = {
        "a": seed.case(
            119.805,
            28.89,
            local(2025, 3, 1, 9),
            squad_code="ZD01",
            segment_id=s1,
            category="占道经营",
            address="解放街12号",
            **PERSON,
        ),
        "b": seed.case(119.806, 28.89, local(2025, 3, 2, 9), squad_code="ZD01", category="违法建设"),
        "c": seed.case(119.825, 28.89, local(2025, 3, 2, 10), squad_code="ZD02", segment_id=s2, category="占道经营"),
        "d": seed.case(None, None, local(2025, 3, 3, 10), squad_code="ZD01", address="不明地址", geocode_score=0.1),
    }
    return ids


def test_rows_are_masked_and_filtered(db: Connection, seed: Seed) -> None:
    ids = _cases(seed)
    rows = case_rows(db, LayerParams(categories=("占道经营",)))
    assert sorted(rows["id"]) == sorted([ids["a"], ids["c"]])
    row = rows.set_index("id").loc[ids["a"]]
    assert row["party_name"] == "张**"
    assert row["party_phone"] == "138****1234"
    assert row["party_id_number"] == "330723********1234"
    assert str(row["received_at"].tz) == "Asia/Shanghai"
    full = case_rows(db, LayerParams(scope=Scope.everything()), case_ids=[ids["a"]])
    assert full.loc[0, "party_name"] == "张三丰"


def test_another_squads_cases_are_not_returned(db: Connection, seed: Seed) -> None:
    ids = _cases(seed)
    mine = case_rows(db, LayerParams(scope=Scope(squads=("ZD02",))))
    assert list(mine["id"]) == [ids["c"]]
    # Asking for a squad outside the scope gives nothing rather than that squad's cases.
    assert case_rows(db, LayerParams(squads=("ZD01",), scope=Scope(squads=("ZD02",)))).empty
    assert case_count(db, LayerParams(scope=Scope(squads=("ZD02",)))) == 1
    chief = case_rows(db, LayerParams(scope=Scope(chief_code="C001")))
    assert list(chief["id"]) == [ids["a"]]


def test_aggregates_only_scope_gets_no_rows(db: Connection, seed: Seed) -> None:
    _cases(seed)
    with pytest.raises(CaseLevelAccessError):
        case_rows(db, LayerParams(scope=Scope(aggregates_only=True)))
    assert case_count(db, LayerParams(scope=Scope(aggregates_only=True))) == 4


def test_drill_down_by_cell_segment_and_text(db: Connection, seed: Seed) -> None:
    ids = _cases(seed)
    cell = h3.latlng_to_cell(28.89, 119.805, 9)
    in_cell = case_rows(db, LayerParams(), h3_cell=cell)
    assert ids["a"] in set(in_cell["id"]) and ids["c"] not in set(in_cell["id"])
    assert all(h3.latlng_to_cell(la, lo, 9) == cell for la, lo in zip(in_cell["lat"], in_cell["lon"], strict=True))
    seg = case_rows(db, LayerParams(), segment_id=int(in_cell.set_index("id").loc[ids["a"], "segment_id"]))
    assert list(seg["id"]) == [ids["a"]]
    assert list(case_rows(db, LayerParams(), search="解放街")["id"]) == [ids["a"]]
    window = case_rows(db, LayerParams(start=local(2025, 3, 2).date(), end=local(2025, 3, 2).date()))
    assert sorted(window["id"]) == sorted([ids["b"], ids["c"]])


def test_review_queue_and_export(db: Connection, seed: Seed) -> None:
    ids = _cases(seed)
    queue = review_queue(db, LayerParams())
    assert list(queue["id"]) == [ids["d"]]
    assert "地址未匹配" in queue.loc[0, "review_reason"]
    exported = case_rows(db, LayerParams(), case_ids=[ids["a"]])
    assert exported.loc[0, "case_number"].startswith("T-")
    assert exported.loc[0, "received_at"] == local(2025, 3, 1, 9)  # a date-time (the export writes it as one)
    assert exported.loc[0, "party_name"] == "张**"


def test_the_page_and_the_command_line_show_one_review_queue(db: Connection, seed: Seed) -> None:
    """One definition (geo.case_review): before, the CLI listed only 未匹配 (flags on request, no
    coarse or low-score cases) and the page showed raw flag codes; now both list the same cases,
    worst first, each with the same Chinese reason, and the count is of all, not of a page."""
    ids = _cases(seed)
    day = local(2025, 3, 4, 9)
    more = {
        "old_unmatched": seed.case(
            None, None, local(2025, 2, 1, 9), address="某处", attrs={"geocode_reason": "地址无意义"}
        ),
        "township": seed.case(119.81, 28.9, day, geocode_level="乡镇", geocode_score=0.5),
        "low": seed.case(119.81, 28.9, day, geocode_level="道路", geocode_score=0.4),
        "flagged": seed.case(119.81, 28.9, day, geocode_score=0.95, flags=["coord_swapped", "squad_unknown"]),
        "clean": seed.case(119.81, 28.9, day, geocode_score=0.95),
    }
    queue = review_queue(db, LayerParams())
    # unmatched first (no score before a score, then newest), then lowest score; the clean case is not listed
    assert list(queue["id"]) == [more["old_unmatched"], ids["d"], more["low"], more["township"], more["flagged"]]
    assert list(queue["review_reason"]) == [
        "地址未匹配（地址无意义）",
        "地址未匹配；匹配分数低（0.10）",
        "匹配分数低（0.40）",
        "仅定位到乡镇；匹配分数低（0.50）",
        "经纬度颠倒、所属中队无法识别",
    ]
    cli = review_cli.review_queue(db, limit=None)
    assert [r["case_number"] for r in cli] == list(queue["case_number"])
    assert [r["reason"] for r in cli] == list(queue["review_reason"])
    assert review_count(db, LayerParams()) == review_cli.review_count(db) == 5
    first = review_queue(db, LayerParams(), limit=2)
    assert list(first["id"]) == list(queue["id"][:2]) and review_count(db, LayerParams()) == 5
    assert EXPORT_HEADERS["review_reason"] == "核查原因"  # the review queue's export carries the reason


def test_counts_per_group_for_every_scope(db: Connection, seed: Seed) -> None:
    _cases(seed)
    wall = LayerParams(scope=Scope(aggregates_only=True))
    assert case_counts(db, wall, "squad").values.tolist() == [["ZD01", 3], ["ZD02", 1]]
    days = case_counts(db, wall, "day")
    assert [str(d) for d in days["key"]] == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert case_counts(db, LayerParams(scope=Scope(squads=("ZD02",))), "category").values.tolist() == [["占道经营", 1]]
    with pytest.raises(ValueError, match="by must be"):
        case_counts(db, wall, "party_name")
