"""Synthetic spatial fixtures for the ETL tests, built from the region outline (no demo data needed)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.ops
from shapely.geometry import LineString, box

from geo.region import Region

SQUAD_NAMES = [
    "壶山中队",
    "白洋中队",
    "熟溪中队",
    "履坦中队",
    "桐琴中队",
    "泉溪中队",
    "王宅中队",
    "桃溪中队",
    "茭道中队",
    "大田中队",
    "柳城中队",
    "新宅中队",
    "西联中队",
]


@pytest.fixture(scope="session")
def squad_tiles(region: Region) -> gpd.GeoDataFrame:
    """13 jurisdictions tiling the county exactly: vertical strips of the outline (WGS-84)."""
    outline = shapely.make_valid(region.outline)
    xmin, ymin, xmax, ymax = outline.bounds
    edges = np.linspace(xmin - 0.001, xmax + 0.001, 14)
    geoms = [outline.intersection(box(edges[i], ymin - 0.001, edges[i + 1], ymax + 0.001)) for i in range(13)]
    return gpd.GeoDataFrame(
        {
            "ZDBM": [f"ZD{i + 1:02d}" for i in range(13)],
            "ZDMC": SQUAD_NAMES,
            "XZQMC": ["壶山街道、白洋街道"] + [""] * 12,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


@pytest.fixture(scope="session")
def street_grid(region: Region) -> gpd.GeoDataFrame:
    """Street segments: a grid over the county clipped to the outline, one segment per piece (WGS-84)."""
    outline = shapely.make_valid(region.outline)
    xmin, ymin, xmax, ymax = outline.bounds
    lines = [LineString([(x, ymin), (x, ymax)]) for x in np.arange(xmin + 0.01, xmax, 0.03)]
    lines += [LineString([(xmin, y), (xmax, y)]) for y in np.arange(ymin + 0.01, ymax, 0.03)]
    pieces = [p for line in lines for p in shapely.get_parts(line.intersection(outline)) if p.length > 0.002]
    # cut the long pieces into ~1 km segments, as a street network is
    segments = []
    for piece in pieces:
        count = max(1, int(piece.length / 0.01))
        for k in range(count):
            segments.append(shapely.ops.substring(piece, k / count, (k + 1) / count, normalized=True))
    names = [f"测试{'东西南北'[i % 4]}路{i // 4}" for i in range(len(segments))]
    return gpd.GeoDataFrame(
        {
            "segment_id": [f"S{i:05d}" for i in range(len(segments))],
            "name": names,
            "road_class": ["支路"] * len(segments),
            "township": ["330723001"] * len(segments),
            "left_from": [1] * len(segments),
            "left_to": [99] * len(segments),
            "right_from": [2] * len(segments),
            "right_to": [98] * len(segments),
        },
        geometry=segments,
        crs="EPSG:4326",
    )


@pytest.fixture
def table_rows() -> Callable:
    """``table_rows(engine, sql)`` → sorted rows, to compare a table before and after a reload."""

    def rows(bind, sql: str) -> list[tuple]:
        with bind.connect() as conn:
            return sorted(tuple(r) for r in conn.exec_driver_sql(sql).all())

    return rows


@pytest.fixture
def zip_folder() -> Callable[[Path, str], Path]:
    """``zip_folder(folder, name)``: zip every file in ``folder`` into ``name`` beside it."""

    def write(folder: Path, name: str) -> Path:
        target = folder.parent / name
        with zipfile.ZipFile(target, "w") as archive:
            for item in sorted(folder.iterdir()):
                archive.write(item, item.name)
        return target

    return write
