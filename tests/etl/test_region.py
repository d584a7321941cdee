"""Loading the region from its config alone: county, 18 townships, 279 villages, seats."""

from __future__ import annotations

from sqlalchemy import Engine, text

from etl.jobs.region import load_region
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
                "SELECT bool_and(ST_Covers(ST_Buffer(c.geom, 0.01), t.seat)) FROM admin_areas t, admin_areas c "
                "WHERE c.level = 'county' AND t.seat IS NOT NULL"
            )
        ).scalar()
        seats = conn.execute(
            text("SELECT count(*) FROM admin_areas WHERE level = 'township' AND seat IS NOT NULL")
        ).scalar()
    assert levels == {"county": 1, "township": 18, "village": 279}
    assert 1500 < county_km2 < 1650
    assert liucheng.aliases == ["柳城畲族镇", "柳城镇", "柳城"] and liucheng.kind == "镇"
    assert seats == 16  # the source has no seat for 白洋街道 and 壶山街道
    assert inside
    assert load_region(schema_engine, region).status == "skipped"
