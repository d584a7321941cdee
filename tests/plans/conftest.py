"""Fixtures of the planner tests: a small street grid with a station, chiefs and cases, in the rolled-back ``db``."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

from etl.demo import load_demo
from geo.db import get_engine
from tests.conftest import migrated_schema
from tests.layers.conftest import Seed, local

X0, Y0 = 119.800, 28.880  # south-west corner of the grid; the station stands here
STEP = 0.001  # about 97 m east-west, 111 m north-south
N = 5  # streets each way: each street is ONE line crossing the others without a shared vertex
PLAN_DATE = dt.date(2026, 11, 30)


@dataclass
class Grid:
    """Ids of the grid's segments: ``ns[i]`` north-south street i, ``ew[j]`` east-west street j, and extras."""

    ns: list[int]
    ew: list[int]
    spur: int  # a dead end sharing its first point with the grid's north-east corner
    island: int  # far away, in a piece of its own
    oneway: int  # one-way street (digitising direction only), east of the grid
    chiefs: list[str]


def build_grid(seed: Seed, conn: Connection) -> Grid:
    """Insert the grid world: squad ZT01 with its station, streets, two chiefs."""
    seed.squad("ZT01", "测试中队", station=(X0, Y0))
    seed.jurisdiction("ZT01", (X0 - 0.01, Y0 - 0.01, X0 + 0.05, Y0 + 0.05))
    east, north = X0 + STEP * (N - 1), Y0 + STEP * (N - 1)
    kw = dict(squad_code="ZT01")
    ns = [
        seed.segment(f"NS{i}", [(X0 + STEP * i, Y0), (X0 + STEP * i, north)], name=f"南北{i}路", **kw) for i in range(N)
    ]
    ew = [
        seed.segment(f"EW{j}", [(X0, Y0 + STEP * j), (east, Y0 + STEP * j)], name=f"东西{j}街", **kw) for j in range(N)
    ]
    spur = seed.segment("SPUR", [(east, north), (east + STEP, north + STEP)], name="支路", **kw)
    oneway = seed.segment("ONE", [(east, Y0), (east + STEP * 2, Y0)], name="单行路", oneway="FT", **kw)
    island = seed.segment("ISLAND", [(X0 + 0.03, Y0 + 0.03), (X0 + 0.031, Y0 + 0.03)], name="孤岛路", **kw)
    conn.execute(text("UPDATE street_segments SET length_m = ST_Length(geom::geography) WHERE squad_code = 'ZT01'"))
    chiefs = ["TC01", "TC02"]
    for code in chiefs:
        seed.chief(code, f"街路长{code}", "ZT01", [])
    return Grid(ns, ew, spur, island, oneway, chiefs)


def open_case(seed: Seed, segment_id: int, lon: float, lat: float, n: int = 1) -> None:
    """``n`` open cases (not closed) on a segment, received the week before the plan date."""
    for k in range(n):
        seed.case(lon, lat, local(2026, 11, 25, 9, k), segment_id=segment_id, squad_code="ZT01", status="办理中")


@pytest.fixture
def grid(db: Connection) -> Grid:
    """The grid world in the rolled-back test connection."""
    return build_grid(Seed(db), db)


@pytest.fixture
def grid_seed(db: Connection) -> Seed:
    """A :class:`Seed` on the same connection as ``grid``."""
    return Seed(db)


@pytest.fixture(scope="session")
def plans_demo_dir(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small demo's files: loading it writes ``planned/`` (the chiefs' plan-following
    tracks and what was planted) there, where no other load of the demo overwrites it."""
    copy = tmp_path_factory.mktemp("plans_demo")
    for folder in ("raw", "truth"):
        shutil.copytree(demo_dir / folder, copy / folder)
    return copy


@pytest.fixture(scope="session")
def demo_url(test_url: URL, plans_demo_dir: Path) -> Iterator[URL]:
    """A schema of its own with the small demo loaded through the ETL (approved plans and their patrols included)."""
    with migrated_schema(test_url, "t_plans") as url:
        load_demo(get_engine(url), plans_demo_dir)
        yield url
