"""Segments that share a name are told apart by their cross streets (or door numbers); each names its chief."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from layers._segment_labels import segment_labels
from tests.layers.conftest import Seed


def test_segments_of_one_street_are_named_by_the_streets_at_their_ends(db: Connection, seed: Seed) -> None:
    # 城东路 runs east in two segments, crossed by 解放街 (west end), 熟溪路 (middle) and 壶山路 (east end).
    west = seed.segment("E1", [(119.80, 28.89), (119.81, 28.89)], name="城东路", road_class="支路")
    east = seed.segment("E2", [(119.81, 28.89), (119.82, 28.89)], name="城东路", road_class="支路")
    seed.segment("N1", [(119.80, 28.88), (119.80, 28.89)], name="解放街", road_class="主干路")
    seed.segment("N2", [(119.80, 28.89), (119.80, 28.90)], name="解放街", road_class="主干路")
    seed.segment("N3", [(119.81, 28.88), (119.81, 28.89)], name="熟溪路", road_class="次干路")
    seed.segment("N4", [(119.82, 28.89), (119.82, 28.90)], name="壶山路", road_class="支路")
    alone = seed.segment("L1", [(119.90, 28.95), (119.91, 28.95)], name="城东路", left_from=1, left_to=49, right_to=50)
    unnamed = seed.segment("L2", [(119.95, 28.95), (119.96, 28.95)])
    twin = seed.segment(
        "E3", [(119.80, 28.89), (119.805, 28.8905), (119.81, 28.89)], name="城东路", left_from=2, left_to=8
    )
    seed.chief("JL9", "王小明", "ZD01", [west])
    seed.chief("JL8", "李四", "ZD01", [west, east])

    labels = segment_labels(db, [east, west, alone, unnamed])
    assert labels.index.tolist() == [east, west, alone, unnamed]
    assert labels.loc[west, "label"] == "城东路（解放街—熟溪路）"
    assert labels.loc[east, "label"] == "城东路（熟溪路—壶山路）"
    assert labels.loc[alone, "label"] == "城东路（1—50号）"  # no street meets it: its door numbers
    assert labels.loc[unnamed, "label"] == "未命名路段（L2）"
    assert labels.loc[west, "chief"] == "李四、王小明"
    assert labels.loc[east, "chief"] == "李四"
    assert labels.loc[alone, "chief"] is None
    twins = segment_labels(db, [west, twin])  # same name, same cross streets: told apart by door numbers or key
    assert twins["label"].tolist() == ["城东路（解放街—熟溪路，E1）", "城东路（解放街—熟溪路，2—8号）"]
    masked = segment_labels(db, [west], mask_chiefs=True)
    assert masked.loc[west, "chief"] == "李**、王**"  # each name masked (the wall shows no person's name)
