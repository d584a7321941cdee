"""Bench-only stand-in: put the demo's streets, places and jurisdictions into empty tables.

The real loaders are the spatial ETL jobs (``python -m etl load streets|places|jurisdictions``);
this exists only so the geocoder bench can measure accuracy on the demo before they are merged.
It does nothing when the tables already hold rows.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine, text

from geo.crs import to_wgs84


def fill_if_empty(engine: Engine, raw: Path) -> list[str]:
    """Load what is missing from ``raw`` (streets, places, squads + jurisdictions); returns what was loaded."""
    done: list[str] = []
    with engine.begin() as conn:
        if not conn.execute(text("SELECT count(*) FROM street_segments")).scalar():
            streets = gpd.read_file(raw / "streets" / "streets.geojson")
            for row in streets.itertuples():
                conn.execute(
                    text(
                        "INSERT INTO street_segments (segment_key, name, road_class, township_code, left_from, "
                        "left_to, right_from, right_to, geom, source_crs) VALUES (:k, :n, :c, :t, :lf, :lt, :rf, "
                        ":rt, ST_GeomFromText(:wkt, 4326), 'EPSG:4326')"
                    ),
                    dict(
                        k=row.segment_id,
                        n=row.name,
                        c=row.road_class,
                        t=str(row.township),
                        wkt=row.geometry.wkt,
                        **{
                            k: _int(getattr(row, n))
                            for k, n in (
                                ("lf", "left_from"),
                                ("lt", "left_to"),
                                ("rf", "right_from"),
                                ("rt", "right_to"),
                            )
                        },
                    ),
                )
            done.append(f"{len(streets)} street segments")
        if not conn.execute(text("SELECT count(*) FROM places")).scalar():
            places = pd.read_csv(raw / "places" / "places.csv", dtype=str, keep_default_na=False)
            lon, lat = to_wgs84(places["经度"].astype(float), places["纬度"].astype(float), "gcj02")
            for row, x, y in zip(places.itertuples(), lon, lat, strict=True):
                conn.execute(
                    text(
                        "INSERT INTO places (place_key, name, kind, address, township_code, geom, source_crs) "
                        "VALUES (:k, :n, :kind, :a, :t, ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'gcj02')"
                    ),
                    dict(k=row.place_id, n=row.name, kind=row.kind, a=row.address, t=row.township, x=x, y=y),
                )
            done.append(f"{len(places)} places")
        if not conn.execute(text("SELECT count(*) FROM jurisdictions")).scalar():
            zones = gpd.read_file(f"zip://{raw / 'jurisdictions' / 'squad_jurisdictions.zip'}").to_crs(4326)
            codes = dict(conn.execute(text("SELECT name, code FROM admin_areas WHERE level = 'township'")).all())
            for row in zones.itertuples():
                townships = [codes[n] for n in str(row.XZQMC).split("、") if n in codes]
                conn.execute(
                    text("INSERT INTO squads (code, name, township_codes) VALUES (:c, :n, :t) ON CONFLICT DO NOTHING"),
                    dict(c=row.ZDBM, n=row.ZDMC, t=townships),
                )
                geom = (
                    shapely.geometry.MultiPolygon([row.geometry])
                    if row.geometry.geom_type == "Polygon"
                    else row.geometry
                )
                conn.execute(
                    text(
                        "INSERT INTO jurisdictions (version, squad_code, name, geom) "
                        "VALUES (1, :c, :n, ST_GeomFromText(:wkt, 4326))"
                    ),
                    dict(c=row.ZDBM, n=row.ZDMC, wkt=geom.wkt),
                )
            done.append(f"{len(zones)} jurisdictions")
    return done


def _int(value: object) -> int | None:
    try:
        return None if value is None or pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return None
