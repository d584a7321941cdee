"""Every geometry column round-trips through GeoAlchemy2 (ORM) and through geopandas."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from geo import models

SQUARE = MultiPolygon([Polygon([(119.80, 28.88), (119.82, 28.88), (119.82, 28.90), (119.80, 28.90)])])
LINE = LineString([(119.81, 28.89), (119.812, 28.891), (119.815, 28.893)])
POINT = Point(119.8123, 28.8934)
T0 = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)


def _rows(session: Session) -> list[tuple[object, str, object]]:
    """One row of every geometry-bearing model: (instance, column, shapely geometry)."""
    squad = models.Squad(code="RT01", name="测试中队", station=from_shape(POINT, 4326))
    segment = models.StreetSegment(segment_key="rt-1", name="测试路", geom=from_shape(LINE, 4326))
    session.add_all([squad, segment])
    session.flush()
    area = models.AdminArea(
        code="330723999", name="测试乡", level="township", geom=from_shape(SQUARE, 4326), seat=from_shape(POINT, 4326)
    )
    return [
        (area, "geom", SQUARE),
        (area, "seat", POINT),
        (squad, "station", POINT),
        (models.Jurisdiction(version=1, squad_code="RT01", geom=from_shape(SQUARE, 4326)), "geom", SQUARE),
        (segment, "geom", LINE),
        (models.Place(place_key="rt-p", name="测试小区", geom=from_shape(POINT, 4326)), "geom", POINT),
        (models.Case(case_number="RT-0001", geom=from_shape(POINT, 4326), geocode_level="门牌"), "geom", POINT),
        (
            models.SanitationRoute(route_code="rt-r", name="测试路线", geom=from_shape(MultiLineString([LINE]), 4326)),
            "geom",
            MultiLineString([LINE]),
        ),
        (
            models.GpsFix(subject_kind="patrol", subject_id="c1", ts=T0, geom=from_shape(POINT, 4326)),
            "geom",
            POINT,
        ),
        (
            models.GazetteerEntry(
                kind="street", name="测试路", canonical="测试路", ref_key="rt-1", geom=from_shape(LINE, 4326)
            ),
            "geom",
            LINE,
        ),
    ]


def test_orm_round_trip_of_every_geometry_column(db: Connection) -> None:
    session = Session(bind=db, join_transaction_mode="create_savepoint")
    rows = _rows(session)
    session.add_all([instance for instance, _, _ in rows])
    session.flush()
    covered = set()
    for instance, column, expected in rows:
        session.expire(instance)
        stored = getattr(instance, column)
        geometry = to_shape(stored)
        assert stored.srid == 4326
        assert geometry.equals_exact(expected, tolerance=1e-9), (type(instance).__name__, column)
        covered.add((type(instance).__tablename__, column))
    assert len(covered) == 10  # every geometry column of the model


@pytest.mark.parametrize(
    "table,column,geometry,extra",
    [
        ("street_segments", "geom", LINE, {"segment_key": "gp-1", "name": "解放街"}),
        ("places", "geom", POINT, {"place_key": "gp-p", "name": "壶山小区"}),
        ("sanitation_routes", "geom", MultiLineString([LINE]), {"route_code": "gp-r", "name": "一号线"}),
        ("admin_areas", "geom", SQUARE, {"code": "330723998", "name": "测试镇", "level": "township"}),
    ],
)
def test_geopandas_round_trip(db: Connection, table: str, column: str, geometry, extra: dict) -> None:
    frame = gpd.GeoDataFrame({**{k: [v] for k, v in extra.items()}}, geometry=[geometry], crs="EPSG:4326")
    frame = frame.rename_geometry(column)
    frame.to_postgis(table, db, if_exists="append")
    key, value = next(iter(extra.items()))
    back = gpd.read_postgis(
        text(f"SELECT {column} FROM {table} WHERE {key} = :value"), db, geom_col=column, params={"value": value}
    )
    assert back.crs.to_epsg() == 4326
    assert len(back) == 1
    assert shapely.equals_exact(back.geometry.iloc[0], geometry, tolerance=1e-9)


def test_rollback_isolates_tests(db: Connection) -> None:
    assert db.execute(select(models.Squad.code).where(models.Squad.code == "RT01")).first() is None
