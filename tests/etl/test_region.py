"""Loading the region from its config alone: county, 18 townships, 279 villages, seats."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, text

from etl.jobs.region import load_region
from geo.errors import ValidationError
from geo.region import Region


def test_region_loads_into_an_empty_database_and_reloads_as_a_no_op(schema_engine: Engine, region: Region) -> None:
    report = load_region(schema_engine, region)
    assert report.status == "succeeded"
    assert report.read == report.loaded + report.rejected == 1 + 18 + 279
    assert report.stats["outline_check_iou"] > 0.95
    with schema_engine.connect() as conn:
        levels = dict(conn.execute(text("SELECT level, count(*) FROM admin_areas GROUP BY level")).all())
        county_km2 = conn.execute(text("SELECT area_km2 FROM admin_areas WHERE level = 'county'")).scalar()
        liucheng = conn.execute(text("SELECT aliases, kind FROM admin_areas WHERE name = '柳城畲族镇'")).one()
        inside = conn.execute(
            text(
                "WITH c AS MATERIALIZED (SELECT ST_Buffer(geom, 0.01) AS g FROM admin_areas WHERE level = 'county') "
                "SELECT bool_and(ST_Covers(c.g, t.seat)) FROM admin_areas t, c WHERE t.seat IS NOT NULL"
            )
        ).scalar()
        seats = conn.execute(
            text("SELECT count(*) FROM admin_areas WHERE level = 'township' AND seat IS NOT NULL")
        ).scalar()
    assert levels == {"county": 1, "township": 18, "village": 279}
    assert 1500 < county_km2 < 1650
    assert liucheng.aliases == ["柳城畲族镇", "柳城镇", "柳城"] and liucheng.kind == "镇"
    assert seats == 18  # 白洋街道 and 壶山街道 from [gazetteer.approximate_seats]
    assert inside
    assert load_region(schema_engine, region).status == "skipped"


def test_township_polygons_are_derived_tile_the_county_and_are_marked_approximate(
    schema_engine: Engine, region: Region
) -> None:
    report = load_region(schema_engine, region)
    assert report.status == "succeeded"
    with schema_engine.connect() as conn:
        towns = conn.execute(
            text(
                "SELECT count(*), bool_and(approximate), bool_and(geom IS NOT NULL), sum(area_km2) "
                "FROM admin_areas WHERE level = 'township'"
            )
        ).one()
        county_km2 = conn.execute(text("SELECT area_km2 FROM admin_areas WHERE level = 'county'")).scalar()
        overlap = conn.execute(
            text(
                "SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0) / 1e6 "
                "FROM admin_areas a JOIN admin_areas b ON a.code < b.code AND ST_Intersects(a.geom, b.geom) "
                "WHERE a.level = 'township' AND b.level = 'township'"
            )
        ).scalar()
        gap = conn.execute(
            text(
                "SELECT ST_Area(ST_Difference(c.geom, (SELECT ST_Union(geom) FROM admin_areas "
                "WHERE level = 'township'))::geography) / 1e6 FROM admin_areas c WHERE c.level = 'county'"
            )
        ).scalar()
        own = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE ST_Covers(t.geom, v.seat)), count(*), "
                "count(*) FILTER (WHERE v.approximate) FROM admin_areas v "
                "JOIN admin_areas t ON t.code = v.parent_code WHERE v.level = 'village'"
            )
        ).one()
    assert towns[0] == 18 and towns[1] and towns[2]
    assert abs(towns[3] - county_km2) / county_km2 < 1e-4
    assert overlap < 0.01 and gap < 0.01
    # every village seat, known or placed, lies in its own township; most are placed (approximate)
    assert own[0] == own[1] == 279 and 250 < own[2] < 279


def test_a_wrong_outline_crs_stops_the_load_with_a_message_naming_the_right_one(
    schema_engine: Engine, region: Region
) -> None:
    wrong = dataclasses.replace(region, outline_crs="EPSG:4326")  # the GCJ-02 file left unconverted
    with pytest.raises(ValidationError, match='likely gcj02, set crs = "gcj02"'):
        load_region(schema_engine, wrong)
    with schema_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin_areas")).scalar() == 0
        status = conn.execute(text("SELECT status FROM etl_runs WHERE job = 'region' ORDER BY id DESC")).scalar()
    assert status == "failed"
    report = load_region(schema_engine, region)
    assert report.status == "succeeded" and report.stats["outline_check_offset_m"] < 100
