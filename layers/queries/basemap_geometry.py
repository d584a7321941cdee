"""Geometry for the offline basemap: county outline, townships and streets, simplified for display.

The dashboard turns this into MapLibre GeoJSON layers drawn under the data, so the map reads
well with no tile server. Streets are limited to the main road classes county-wide and complete
inside a squad's jurisdiction or a street chief's area.
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from layers.base import LayerParams

MAIN_ROAD_CLASSES = ("主干路", "次干路")

_AREAS = text(
    """
    SELECT level AS kind, code, name, approximate,
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tolerance), 5) AS geojson
    FROM admin_areas
    WHERE level IN ('county', 'township') AND geom IS NOT NULL
    ORDER BY level, code
    """
)

_STREETS = text(
    """
    SELECT 'street' AS kind, s.segment_key AS code, s.name, s.road_class,
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(s.geom, :tolerance), 5) AS geojson
    FROM street_segments s
    WHERE (CAST(:all_classes AS boolean) OR s.road_class = ANY(:classes))
      AND (CAST(:squads AS text[]) IS NULL OR s.squad_code = ANY(:squads)
           OR EXISTS (SELECT 1 FROM jurisdictions j
                      WHERE j.is_current AND j.squad_code = ANY(:squads) AND ST_Intersects(j.geom, s.geom)))
    """
)


def basemap_rows(conn: Connection, params: LayerParams) -> pd.DataFrame:
    """Rows of ``kind`` (county / township / street), code, name, road_class, approximate, geojson.

    ``params.options["detail"]``: ``"county"`` (main roads only, the default) or ``"full"`` (every
    street of ``params.squads``, or of the county when no squad is given).
    """
    detail = params.options.get("detail", "county")
    areas = pd.DataFrame(conn.execute(_AREAS, {"tolerance": 0.0003}).mappings().all())
    squads = list(params.squads) or None
    streets = pd.DataFrame(
        conn.execute(
            _STREETS,
            {
                "tolerance": 0.00005 if detail == "full" else 0.0002,
                "all_classes": detail == "full",
                "classes": list(MAIN_ROAD_CLASSES),
                "squads": squads if detail == "full" else None,
            },
        )
        .mappings()
        .all()
    )
    columns = ["kind", "code", "name", "road_class", "approximate", "geojson"]
    return pd.concat([areas, streets], ignore_index=True).reindex(columns=columns)


def basemap_collections(conn: Connection, params: LayerParams) -> dict[str, dict]:
    """GeoJSON FeatureCollections per kind (county, township, street) for the offline basemap."""
    data = basemap_rows(conn, params)
    collections: dict[str, dict] = {}
    for kind, rows in data.groupby("kind"):
        features = [
            {
                "type": "Feature",
                "geometry": json.loads(row.geojson),
                "properties": {"name": row.name, "road_class": row.road_class},
            }
            for row in rows.itertuples()
            if row.geojson
        ]
        collections[str(kind)] = {"type": "FeatureCollection", "features": features}
    return collections
