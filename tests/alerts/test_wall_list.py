"""The wall's warnings list (alerts/wall.py): what can be acted on now first, long-overdue cases summed
up in one line per squad, and the panel draws that summary."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Connection

from alerts.rules import Finding
from alerts.store import sync
from alerts.wall import wall_warnings
from dashboard.warnings_panel import wall_list
from layers.base import Scope
from tests.alerts.conftest import NOW, World


def _due(case: str, squad: str, hours: float, severity: str | None = None) -> Finding:
    due = NOW - dt.timedelta(hours=hours)
    return Finding(
        "case_due",
        severity or ("critical" if hours > 0 else "warning"),
        "case",
        case,
        f"案件未办结（{case}）",
        squad,
        detail={"due_at": due.isoformat(), "over": hours > 0},
    )


def _text(node: object) -> str:
    children = getattr(node, "children", node)
    if isinstance(children, str):
        return children
    if isinstance(children, list):
        return "".join(_text(c) for c in children)
    return "" if children is None else _text(children)


def test_the_wall_lists_what_can_be_acted_on_and_sums_up_long_overdue_cases(world: World) -> None:
    db: Connection = world.conn
    world.seed.squad("ZD02", "白洋中队", short_name="白洋")
    raised_long_ago = NOW - dt.timedelta(days=20)
    sync(db, "case_due", [_due("OLD-1", "ZD01", 592), _due("OLD-2", "ZD01", 30)], raised_long_ago)
    sync(
        db,
        "case_due",
        [
            _due("OLD-1", "ZD01", 592),
            _due("OLD-2", "ZD01", 30),
            _due("OLD-3", "ZD02", 100),
            _due("FRESH", "ZD01", 2),  # went past due two hours ago
            _due("SOON", "ZD01", -5),  # due in five hours
        ],
        NOW - dt.timedelta(hours=6),
    )
    sync(
        db, "device_silent", [Finding("device_silent", "warning", "device", "patrol:JL001", "设备无定位", "ZD01")], NOW
    )
    sync(db, "emerging_hotspot", [Finding("emerging_hotspot", "info", "cell", "c1", "新增热点", "ZD01")], NOW)

    listed = wall_warnings(db, Scope.everything(), NOW)
    titles = listed.rows["title"].tolist()
    # critical first: the case that went past due today; the long-overdue ones are not listed one by one
    assert titles == ["案件未办结（FRESH）", "设备无定位", "案件未办结（SOON）", "新增热点"]
    assert listed.rows["actionable_at"].iloc[0] == NOW - dt.timedelta(hours=2)
    assert [tuple(r) for r in listed.overdue[["squad", "n"]].itertuples(index=False)] == [("熟溪", 2), ("白洋", 1)]
    assert listed.total == 7

    panel = _text(wall_list(listed))
    assert "预警（7）" in panel
    assert "另有2件超期超过24小时" in panel and "另有1件超期超过24小时" in panel
    assert "OLD-1" not in panel and "592" not in panel

    only_zd02 = wall_warnings(db, Scope(squads=("ZD02",)), NOW)
    assert only_zd02.rows.empty and only_zd02.overdue["n"].tolist() == [1] and only_zd02.total == 1
