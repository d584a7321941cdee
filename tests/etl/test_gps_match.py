"""Map-matching: nearest segment within the tolerance, the direction of travel deciding near junctions."""

from __future__ import annotations

import numpy as np
import shapely

from etl.gps.match import StreetIndex
from geo.crs import to_wgs84
from geo.region import get_region

X0, Y0 = 500_000.0, 3_196_000.0  # metres in the region's metric CRS, near Wuyi


def index(lines: dict[int, list[tuple[float, float]]]) -> StreetIndex:
    metric = get_region().metric_crs
    geoms = []
    for coords in lines.values():
        xy = np.array(coords, dtype=float) + np.array([X0, Y0])
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], metric)
        geoms.append(shapely.linestrings(np.column_stack([lon, lat])))
    return StreetIndex.from_lines(np.array(list(lines)), np.array(geoms), metric)


def match(streets: StreetIndex, points: list[tuple[float, float]], direction: list[float]):
    xy = np.array(points, dtype=float) + np.array([X0, Y0])
    return streets.match(xy[:, 0], xy[:, 1], np.array(direction), tolerance=30.0, heading_weight=20.0)


CROSSING = {10: [(-100, 0), (100, 0)], 20: [(0, -100), (0, 100)]}  # east-west and north-south


def test_the_direction_of_travel_picks_the_street_walked_along_at_a_crossing() -> None:
    streets = index(CROSSING)
    # 2 m from the north-south street, 6 m from the east-west one
    points = [(2.0, 6.0)] * 3
    east, north = 0.0, np.pi / 2
    segment, distance = match(streets, points, [east, north, np.nan])
    assert segment.tolist() == [10, 20, 20]  # travelling east / north / direction unknown: nearest
    assert np.allclose(distance, [6.0, 2.0, 2.0], atol=0.01)
    # westward travel is along the east-west street too (streets have no direction)
    assert match(streets, points[:1], [np.pi])[0].tolist() == [10]


def test_parallel_streets_go_to_the_nearer_one_and_far_fixes_to_none() -> None:
    streets = index({1: [(-100, 0), (100, 0)], 2: [(-100, 20), (100, 20)]})
    segment, distance = match(streets, [(0, 6), (0, 14), (0, 80)], [0.0, 0.0, 0.0])
    assert segment.tolist() == [1, 2, -1]
    assert np.allclose(distance[:2], [6.0, 6.0], atol=0.01) and np.isnan(distance[2])


def test_no_streets_matches_nothing() -> None:
    streets = StreetIndex.from_lines(np.zeros(0, dtype=int), np.zeros(0, dtype=object), get_region().metric_crs)
    segment, distance = match(streets, [(0, 0)], [0.0])
    assert streets.empty and segment.tolist() == [-1] and np.isnan(distance).all()


def test_at_a_junction_the_segment_ahead_wins_whatever_the_ids() -> None:
    for west, east in ((1, 2), (2, 1)):
        streets = index({west: [(-100, 0), (0, 0)], east: [(0, 0), (100, 0)]})
        segment, _ = match(streets, [(0, 3), (0, 3)], [0.0, np.pi])  # heading east, heading west
        assert segment.tolist() == [east, west]
