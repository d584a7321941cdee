"""Township polygons: derived (approximate, tiling the county) unless a real polygon file is configured."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import shapely

from geo.errors import ConfigError
from geo.region import Region
from geo.township_geometry import derive_township_geometry


def test_derived_polygons_tile_the_outline_and_every_seat_lies_in_its_township(region: Region) -> None:
    geometry = derive_township_geometry(region)
    towns = geometry.townships.set_index("code")
    assert len(towns) == 18 and towns["approximate"].all()
    union = shapely.union_all(list(towns["polygon"]))
    assert union.symmetric_difference(region.outline).area < 1e-6 * region.outline.area
    assert sum(p.area for p in towns["polygon"]) == pytest.approx(region.outline.area, rel=1e-6)
    assert set(towns.index[towns["seat_approximate"]]) == {"330723001", "330723002"}
    for town in towns.itertuples():
        assert town.polygon.contains(town.seat), town.name
    villages = geometry.villages
    assert len(villages) == 279
    for village in villages.itertuples():
        assert towns.at[village.township, "polygon"].contains(village.seat), village.name
    # placed seats are spread out, not piled on one spot
    for _, group in villages[villages["approximate"]].groupby("township"):
        points = shapely.points([(p.x, p.y) for p in group["seat"]])
        assert len(set(shapely.to_wkb(points))) == len(group)
    assert derive_township_geometry(region).villages["seat"].equals(villages["seat"])  # deterministic


def test_a_configured_polygon_file_replaces_the_derivation(region: Region, tmp_path: Path) -> None:
    derived = derive_township_geometry(region).townships
    features = [
        {"type": "Feature", "properties": {"code": c}, "geometry": shapely.geometry.mapping(p)}
        for c, p in zip(derived["code"], derived["polygon"], strict=True)
    ]
    path = tmp_path / "towns.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    real = derive_township_geometry(dataclasses.replace(region, township_polygons=path)).townships
    assert not real["approximate"].any()
    assert all(a.equals_exact(b, 1e-9) for a, b in zip(real["polygon"], derived["polygon"], strict=True))


def test_a_township_without_any_seat_is_a_config_error(region: Region) -> None:
    with pytest.raises(ConfigError, match="330723001"):
        derive_township_geometry(dataclasses.replace(region, approximate_seats={}))
