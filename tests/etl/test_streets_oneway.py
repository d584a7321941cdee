"""One-way streets: the streets job reads a one-way column ('FT' / 'TF' / both ways) into ``oneway``."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, text

from etl.jobs.streets import load


def test_oneway_column_is_loaded(world_engine: Engine, tmp_path: Path) -> None:
    features = [
        ("W1", "yes", [(119.801, 28.881), (119.802, 28.881)]),
        ("W2", "TF", [(119.801, 28.882), (119.802, 28.882)]),
        ("W3", "", [(119.801, 28.883), (119.802, 28.883)]),
        ("W4", "-1", [(119.801, 28.884), (119.802, 28.884)]),
        ("W5", "单行", [(119.801, 28.885), (119.802, 28.885)]),
    ]
    path = tmp_path / "streets.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"segment_id": key, "name": "测试路", "单行": flag},
                        "geometry": {"type": "LineString", "coordinates": coords},
                    }
                    for key, flag, coords in features
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert load(world_engine, path).status == "succeeded"
    with world_engine.connect() as conn:
        found = dict(
            conn.execute(text("SELECT segment_key, oneway FROM street_segments WHERE segment_key LIKE 'W%'")).all()
        )
    assert found == {"W1": "FT", "W2": "TF", "W3": None, "W4": "TF", "W5": "FT"}
