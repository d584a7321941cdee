"""Fixtures of the layer tests: a small hand-made county inserted through the models into the rolled-back ``db``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from geo import models

TZ = ZoneInfo("Asia/Shanghai")
ORIGIN = (119.80, 28.88)  # a corner in Wuyi


def local(*args: int) -> dt.datetime:
    """An aware local (Asia/Shanghai) datetime."""
    return dt.datetime(*args, tzinfo=TZ)


def square(x0: float, y0: float, x1: float, y1: float) -> str:
    """EWKT of a rectangle as a MultiPolygon."""
    return f"SRID=4326;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def line(coords: Sequence[tuple[float, float]]) -> str:
    """EWKT of a LineString."""
    return "SRID=4326;LINESTRING(" + ",".join(f"{x} {y}" for x, y in coords) + ")"


class Seed:
    """Inserts rows through the ORM tables; returns ids."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._case = 0

    def _insert(self, model: type, **values: object) -> int | None:
        table = model.__table__
        stmt = insert(table).values(**values)
        if "id" in table.c:
            return self.conn.execute(stmt.returning(table.c.id)).scalar_one()
        self.conn.execute(stmt)
        return None

    def squad(self, code: str, name: str, station: tuple[float, float] | None = None, **kw: object) -> int:
        point = f"SRID=4326;POINT({station[0]} {station[1]})" if station else None
        return self._insert(models.Squad, code=code, name=name, station=point, **kw)

    def jurisdiction(self, code: str, bbox: tuple[float, float, float, float], version: int = 1, **kw: object) -> int:
        return self._insert(models.Jurisdiction, version=version, squad_code=code, geom=square(*bbox), **kw)

    def area(self, code: str, name: str, level: str, bbox: tuple[float, float, float, float], **kw: object) -> int:
        return self._insert(models.AdminArea, code=code, name=name, level=level, geom=square(*bbox), **kw)

    def segment(self, key: str, coords: Sequence[tuple[float, float]], **kw: object) -> int:
        return self._insert(models.StreetSegment, segment_key=key, geom=line(coords), **kw)

    def chief(self, code: str, name: str, squad_code: str, segment_ids: Sequence[int], **kw: object) -> int:
        chief_id = self._insert(models.StreetChief, code=code, name=name, squad_code=squad_code, **kw)
        for sid in segment_ids:
            self._insert(models.ChiefSegment, chief_id=chief_id, segment_id=sid)
        return chief_id

    def case(self, lon: float | None, lat: float | None, received: dt.datetime, **kw: object) -> int:
        self._case += 1
        kw.setdefault("case_number", f"T-{self._case:05d}")
        kw.setdefault("geocode_level", "门牌" if lon is not None else "未匹配")
        # a case given a segment counts on it, as if the ETL had stored it (geo/case_segments.py)
        kw.setdefault("near_segment_id", kw.get("segment_id"))
        geom = f"SRID=4326;POINT({lon} {lat})" if lon is not None else None
        return self._insert(models.Case, geom=geom, received_at=received, **kw)

    def visit(
        self, segment_id: int, kind: str, subject: str, entered: dt.datetime, minutes: float, n_fixes: int = 5
    ) -> int:
        left = entered + dt.timedelta(minutes=minutes)
        return self._insert(
            models.SegmentVisit,
            segment_id=segment_id,
            subject_kind=kind,
            subject_id=subject,
            entered_at=entered,
            left_at=left,
            dwell_s=minutes * 60.0,
            n_fixes=n_fixes,
        )

    def route(self, code: str, segment_ids: Sequence[int], coords: Sequence[tuple[float, float]], **kw: object) -> int:
        geom = "SRID=4326;MULTILINESTRING((" + ",".join(f"{x} {y}" for x, y in coords) + "))"
        route_id = self._insert(models.SanitationRoute, route_code=code, name=kw.pop("name", code), geom=geom, **kw)
        for sid in segment_ids:
            self._insert(models.RouteSegment, route_id=route_id, segment_id=sid)
        return route_id


@pytest.fixture
def seed(db: Connection) -> Seed:
    """A :class:`Seed` writing into the rolled-back test connection."""
    return Seed(db)
