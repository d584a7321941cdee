"""Mapbox vector tiles of the offline basemap, made by PostGIS from the loaded data (``ST_AsMVT``).

One tile holds the source layers ``county``, ``townships``, ``villages`` (outlines), ``jurisdictions``
(current squad areas), ``streets`` (every segment with its class; only the main road classes below
zoom :data:`ALL_STREETS_ZOOM`), ``street_names`` (segments of one name merged into long lines, for
labels along the street), ``stations`` (squad stations) and ``labels`` (one point per squad,
township and village, with ``kind`` and ``name``), and ``reference`` (the extra layers of the
``basemap`` load: water, green space, and buildings from zoom :data:`BUILDING_ZOOM`, with ``layer``
and ``name``). The dashboard serves them at
``/basemap/tiles/{z}/{x}/{y}.pbf`` and styles them light or dark; the data stays the same.
"""

from __future__ import annotations

import math

from sqlalchemy import text
from sqlalchemy.engine import Connection

MAIN_ROAD_CLASSES = ("主干路", "次干路")
ALL_STREETS_ZOOM = 12  # below it, only the main road classes
VILLAGE_ZOOM = 11  # village outlines and labels from this zoom
STREET_NAME_ZOOM = 12  # merged street lines for labels from this zoom
MAX_ZOOM = 18
BUILDING_ZOOM = 13  # buildings from this zoom (below it they are specks and heavy tiles)
SOURCE_JOBS = ("region", "jurisdictions", "streets", "stations", "basemap")
EXTENT = 4096
_WORLD_M = 2 * math.pi * 6378137.0

LAYERS = (
    "reference",
    "county",
    "townships",
    "villages",
    "jurisdictions",
    "streets",
    "street_names",
    "stations",
    "labels",
)


def _mvt(column: str, *, simplify: bool = True, buffer: int = 64) -> str:
    """SQL of ``column`` shifted, in Web Mercator, simplified to the tile's pixel and clipped to it."""
    merc = f"ST_Transform(ST_Translate({column}, :dx, :dy), 3857)"
    if simplify:
        merc = f"ST_SimplifyPreserveTopology({merc}, :tolerance)"
    return f"ST_AsMVTGeom({merc}, env.tile, {EXTENT}, {buffer}, true) AS geom"


_TILE = text(
    f"""
    WITH env AS (
        SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
               ST_Translate(ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.05), 4326), -:dx, -:dy) AS box
    ),
    mvt_reference AS (
        SELECT b.layer, b.name, {_mvt("b.geom")}
        FROM basemap_features b, env
        WHERE b.geom && env.box AND (b.layer <> 'building' OR :z >= :building_zoom)
    ),
    mvt_county AS (
        SELECT a.name, {_mvt("a.geom")} FROM admin_areas a, env WHERE a.level = 'county' AND a.geom && env.box
    ),
    mvt_townships AS (
        SELECT a.code, a.name, {_mvt("a.geom")}
        FROM admin_areas a, env WHERE a.level = 'township' AND a.geom && env.box
    ),
    mvt_villages AS (
        SELECT a.code, a.name, {_mvt("a.geom")}
        FROM admin_areas a, env WHERE :z >= :village_zoom AND a.level = 'village' AND a.geom && env.box
    ),
    mvt_jurisdictions AS (
        SELECT j.squad_code AS code, s.name, {_mvt("j.geom")}
        FROM jurisdictions j JOIN squads s ON s.code = j.squad_code, env
        WHERE j.is_current AND j.geom && env.box
    ),
    mvt_streets AS (
        SELECT s.name, s.road_class, {_mvt("s.geom")}
        FROM street_segments s, env
        WHERE s.geom && env.box AND (:z >= :all_streets_zoom OR s.road_class = ANY(:main_classes))
    ),
    mvt_street_names AS (
        SELECT m.name, m.road_class, {_mvt("m.geom", simplify=False, buffer=256)}
        FROM (SELECT s.name, min(s.road_class) AS road_class, ST_LineMerge(ST_Collect(s.geom)) AS geom
              FROM street_segments s, env
              WHERE :z >= :street_name_zoom AND s.name IS NOT NULL AND s.name <> '' AND s.geom && env.box
              GROUP BY s.name) m, env
    ),
    mvt_stations AS (
        SELECT q.code, q.name, {_mvt("q.station", simplify=False)} FROM squads q, env WHERE q.station && env.box
    ),
    label_points AS (
        SELECT 'squad' AS kind, s.name, ST_PointOnSurface(j.geom) AS geom, ST_Area(j.geom) AS size
        FROM jurisdictions j JOIN squads s ON s.code = j.squad_code WHERE j.is_current
        UNION ALL
        SELECT a.level, a.name, COALESCE(CASE WHEN a.level = 'township' THEN ST_PointOnSurface(a.geom) END,
                                         a.seat, ST_PointOnSurface(a.geom)),
               COALESCE(ST_Area(a.geom), 0)
        FROM admin_areas a WHERE a.level IN ('township', 'village')
    ),
    mvt_labels AS (
        SELECT p.kind, p.name, {_mvt("p.geom", simplify=False, buffer=0)}
        FROM label_points p, env
        WHERE p.geom && env.box AND (p.kind <> 'village' OR :z >= :village_zoom)
        ORDER BY p.size DESC
    )
    SELECT {
        " || ".join(
            f"COALESCE((SELECT ST_AsMVT(t, '{name}', {EXTENT}, 'geom') FROM mvt_{name} t WHERE t.geom IS NOT NULL), '')"
            for name in LAYERS
        )
    }
    """
)

_VERSION = text(
    """
    SELECT COALESCE(max(id), 0) FROM etl_runs WHERE status = 'succeeded' AND job = ANY(:jobs)
    """
)


def tile_in_range(z: int, x: int, y: int) -> bool:
    """True for a tile address that exists (``0 <= x, y < 2**z``) at a zoom the basemap serves."""
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def tile_centre(z: int, x: int, y: int) -> tuple[float, float]:
    """Longitude and latitude (degrees) of the centre of tile ``z/x/y``."""
    n = 2**z
    lon = (x + 0.5) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))
    return lon, lat


def basemap_tile(conn: Connection, z: int, x: int, y: int, shift: tuple[float, float] = (0.0, 0.0)) -> bytes:
    """The vector tile ``z/x/y`` (Mapbox Vector Tile bytes; empty when nothing lies in it).

    Parameters
    ----------
    conn
        A connection to the database.
    z, x, y
        The tile address (XYZ, Web Mercator); check it with :func:`tile_in_range` first.
    shift
        Degrees (lon, lat) added to every coordinate before it is tiled: ``(0, 0)`` for a WGS-84
        basemap, the GCJ-02 offset at the tile's centre for Amap-style raster tiles underneath.
    """
    tolerance = _WORLD_M / (2**z) / EXTENT * 2  # two tile units: invisible, and it keeps tiles small
    row = conn.execute(
        _TILE,
        {
            "z": z,
            "x": x,
            "y": y,
            "dx": shift[0],
            "dy": shift[1],
            "tolerance": tolerance,
            "village_zoom": VILLAGE_ZOOM,
            "building_zoom": BUILDING_ZOOM,
            "all_streets_zoom": ALL_STREETS_ZOOM,
            "street_name_zoom": STREET_NAME_ZOOM,
            "main_classes": list(MAIN_ROAD_CLASSES),
        },
    ).scalar_one()
    return bytes(row or b"")


def basemap_version(conn: Connection) -> int:
    """The id of the newest successful load of the data the tiles are made of (0 before any).

    Tiles change only when one of the jobs in :data:`SOURCE_JOBS` loads new data, so this number
    names a version of every tile: it is the tiles' ETag and the ``v`` of their URL.
    """
    return int(conn.execute(_VERSION, {"jobs": list(SOURCE_JOBS)}).scalar_one())
