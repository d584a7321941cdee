"""Short forms of administrative names."""

from __future__ import annotations

import pytest

from geo.admin_names import admin_aliases, admin_kind, display_name


@pytest.mark.parametrize(
    "name,level,aliases",
    [
        ("武义县", "county", ["武义县", "武义"]),
        ("白洋街道", "township", ["白洋街道", "白洋"]),
        ("柳城畲族镇", "township", ["柳城畲族镇", "柳城镇", "柳城"]),
        ("大溪口乡", "township", ["大溪口乡", "大溪口"]),
        ("下王宅社区居委会", "village", ["下王宅社区", "下王宅社区居委会", "下王宅"]),
        ("上坦村委会", "village", ["上坦村", "上坦村委会", "上坦"]),
    ],
)
def test_aliases(name: str, level: str, aliases: list[str]) -> None:
    assert admin_aliases(name, level) == aliases


def test_display_and_kind() -> None:
    assert display_name("鸣阳社区居委会", "village") == "鸣阳社区"
    assert admin_kind("柳城畲族镇", "township") == "镇"
    assert admin_kind("上坦村委会", "village") == "村"
