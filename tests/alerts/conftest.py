"""Fixtures of the warning tests: a one-squad world in the rolled-back ``db`` and a writer of GPS fixes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from alerts.rules import clear_caches
from tests.layers.conftest import Seed, local

STATION = (119.800, 28.890)
BOX = (119.79, 28.87, 119.812, 28.91)  # ZD01's jurisdiction
NOW = local(2026, 3, 10, 11, 30)  # a Tuesday, in the day shift (07-15)


@dataclass
class World:
    """The ids of the hand-made world."""

    seed: Seed
    conn: Connection
    segment: int  # 解放街, on JL001's streets and route QS01
    quiet: int  # 熟溪路: no case

    def fix(self, kind: str, subject: str, ts: dt.datetime, lon: float, lat: float) -> None:
        """Insert one GPS fix (as the GPS pipeline stores it)."""
        self.conn.execute(
            text(
                "INSERT INTO gps_fixes (subject_kind, subject_id, ts, geom, source_crs) "
                "VALUES (:k, :s, :ts, ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'EPSG:4326')"
            ),
            {"k": kind, "s": subject, "ts": ts, "x": lon, "y": lat},
        )

    def track(
        self, subject: str, start: dt.datetime, minutes: int, lon: float, lat: float, step_m: float = 0.0
    ) -> None:
        """A fix a minute for ``minutes`` from ``start``, moving ``step_m`` metres east each minute."""
        for i in range(minutes + 1):
            self.fix("patrol", subject, start + dt.timedelta(minutes=i), lon + i * step_m / 97_500, lat)


@pytest.fixture
def world(db: Connection) -> World:
    clear_caches()
    seed = Seed(db)
    seed.squad("ZD01", "熟溪中队", station=STATION, short_name="熟溪")
    seed.jurisdiction("ZD01", BOX)
    segment = seed.segment("S1", [(119.800, 28.895), (119.805, 28.895)], name="解放街", squad_code="ZD01", length_m=490)
    quiet = seed.segment("S2", [(119.800, 28.880), (119.805, 28.880)], name="熟溪路", squad_code="ZD01", length_m=490)
    seed.chief("JL001", "张三丰", "ZD01", [segment], role="街长")
    seed.route(
        "QS01",
        [segment],
        [(119.800, 28.895), (119.805, 28.895)],
        vehicle="浙G0001",
        schedule="05:00-07:30",
        squad_code="ZD01",
        name="熟溪一号清扫线",
    )
    yield World(seed, db, segment, quiet)
    clear_caches()
