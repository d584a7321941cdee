"""The gazetteer table: every matchable name built from what the ETL loaded, rebuilt incrementally.

Sources are ``admin_areas`` (county, townships, villages with their aliases), ``street_segments``
(names, aliases, door-number ranges by side), ``places`` (names, and their addresses as
address points) and ``address_points`` (addresses a person placed). Each source row becomes one
entry per name form, all carrying a hash of the source row (``source_version``); a refresh
rewrites only the rows whose hash changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import shapely
from geoalchemy2 import WKBElement
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, insert, text
from sqlalchemy.engine import Connection

from geo.admin_names import admin_aliases
from geo.geocode.normalize import name_key
from geo.models import GazetteerEntry

KINDS = ("county", "township", "village", "street", "place", "address_point")


@dataclass(frozen=True)
class Entry:
    """One matchable name (a row of the ``gazetteer`` table)."""

    kind: str
    name: str
    canonical: str
    ref_key: str
    township_code: str | None = None
    village_code: str | None = None
    geom: BaseGeometry | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefreshStats:
    """What a refresh did, counted in source rows (not name forms)."""

    added: int
    changed: int
    removed: int
    unchanged: int
    entries: int

    @property
    def touched(self) -> bool:
        """True when anything was rewritten."""
        return bool(self.added or self.changed or self.removed)


_SOURCES: dict[str, str] = {
    "county": """
        SELECT code AS ref_key, name, aliases, NULL AS township_code, NULL AS village_code,
               ST_AsBinary(geom) AS wkb, '{}'::jsonb AS attrs
        FROM admin_areas WHERE level = 'county'""",
    # A township's point: its seat, else a point in its polygon, else the centre of its villages'
    # seats, else the centre of its streets (marked approximate). Its polygon: its own when it is
    # not approximate, else the current jurisdiction of a squad that covers exactly this township
    # (squads are made of whole townships), else its approximate one, so that a matched point can
    # be told which township it lies in.
    "township": """
        WITH t AS (
            SELECT t.*, COALESCE(CASE WHEN NOT t.approximate THEN t.geom END, j.geom, t.geom) AS polygon,
                   j.geom IS NULL AND t.approximate AND t.geom IS NOT NULL AS polygon_approximate
            FROM admin_areas t
            LEFT JOIN LATERAL (
                SELECT ST_Multi(ST_Union(j.geom)) AS geom FROM jurisdictions j JOIN squads q ON q.code = j.squad_code
                 WHERE j.is_current AND q.township_codes = ARRAY[t.code]::text[]) j ON true
            WHERE level = 'township')
        SELECT t.code AS ref_key, t.name, t.aliases, t.code AS township_code, NULL AS village_code,
               ST_AsBinary(COALESCE(t.seat, ST_PointOnSurface(t.geom),
                   (SELECT ST_Centroid(ST_Collect(v.seat)) FROM admin_areas v
                     WHERE v.parent_code = t.code AND v.seat IS NOT NULL),
                   ST_PointOnSurface(t.polygon),
                   (SELECT ST_Centroid(ST_Collect(ST_LineInterpolatePoint(s.geom, 0.5)))
                      FROM street_segments s WHERE s.township_code = t.code))) AS wkb,
               jsonb_build_object('approximate', t.seat IS NULL AND t.geom IS NULL,
                                  'polygon', encode(ST_AsBinary(t.polygon), 'hex'),
                                  'polygon_approximate', t.polygon_approximate) AS attrs
        FROM t""",
    "village": """
        SELECT v.code AS ref_key, v.name, v.aliases, v.parent_code AS township_code, v.code AS village_code,
               ST_AsBinary(COALESCE(v.seat, ST_PointOnSurface(v.geom),
                   (SELECT ST_Centroid(ST_Collect(p.geom)) FROM places p WHERE p.village_code = v.code))) AS wkb,
               jsonb_build_object('approximate', v.approximate OR (v.seat IS NULL AND v.geom IS NULL)) AS attrs
        FROM admin_areas v WHERE level = 'village'""",
    "street": """
        SELECT segment_key AS ref_key, name, aliases, township_code, NULL AS village_code,
               ST_AsBinary(geom) AS wkb,
               jsonb_build_object('segment_id', id, 'road_class', road_class,
                                  'left', jsonb_build_array(left_from, left_to),
                                  'right', jsonb_build_array(right_from, right_to)) AS attrs
        FROM street_segments WHERE name IS NOT NULL AND name <> ''""",
    "place": """
        SELECT place_key AS ref_key, name, aliases, township_code, village_code, ST_AsBinary(geom) AS wkb,
               jsonb_build_object('kind', kind, 'place_id', id) AS attrs
        FROM places""",
}
# A place's own address (解放街147号) is an address point at the place.
_PLACE_ADDRESSES = """
    SELECT 'place:' || place_key AS ref_key, address AS name, ARRAY[]::text[] AS aliases, township_code,
           village_code, ST_AsBinary(geom) AS wkb, jsonb_build_object('place', name) AS attrs
    FROM places WHERE address IS NOT NULL AND address <> ''"""
# Addresses placed by a person (an admin fixing a case, geo/address_fix.py): ``point_key`` is the
# address in the form the geocoder looks address points up by (Geocoder.lookup_key).
_ADDRESS_POINTS = """
    SELECT 'manual:' || point_key AS ref_key, point_key AS name, ARRAY[]::text[] AS aliases, township_code,
           NULL AS village_code, ST_AsBinary(geom) AS wkb, jsonb_build_object('source', source) AS attrs
    FROM address_points"""


def _version(row: Any) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for value in row:
        digest.update(repr(bytes(value) if isinstance(value, memoryview) else value).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()


def _forms(kind: str, name: str, aliases: Iterable[str] | None) -> list[str]:
    forms = [name, *(aliases or [])]
    if kind in {"county", "township", "village"}:
        forms += admin_aliases(name, kind)
    keys: list[str] = []
    for form in forms:
        key = name_key(form)
        if key and key not in keys:
            keys.append(key)
    return keys


def source_entries(conn: Connection) -> Iterator[tuple[str, str, str, list[Entry]]]:
    """Every source row as (kind, ref_key, source_version, its entries), read from the loaded tables."""
    sources = [*_SOURCES.items(), ("address_point", _PLACE_ADDRESSES)]
    if conn.execute(text("SELECT to_regclass('address_points')")).scalar() is not None:
        sources.append(("address_point", _ADDRESS_POINTS))
    for kind, sql in sources:
        for row in conn.execute(text(sql)).all():
            geom = shapely.from_wkb(bytes(row.wkb)) if row.wkb is not None else None
            version = _version(tuple(row))
            entries = [
                Entry(
                    kind=kind,
                    name=form,
                    canonical=row.name,
                    ref_key=str(row.ref_key),
                    township_code=row.township_code,
                    village_code=row.village_code,
                    geom=geom,
                    attrs=dict(row.attrs or {}),
                )
                for form in _forms(kind, row.name, row.aliases)
            ]
            yield kind, str(row.ref_key), version, entries


def refresh_gazetteer(conn: Connection) -> RefreshStats:
    """Bring the ``gazetteer`` table up to date with its sources, rewriting only what changed.

    Parameters
    ----------
    conn
        A connection inside the caller's transaction.

    Returns
    -------
    RefreshStats
        Source rows added, changed, removed and unchanged, and the entries now in the table.
    """
    existing = {
        (kind, ref_key): version
        for kind, ref_key, version in conn.execute(
            text("SELECT kind, ref_key, min(source_version) FROM gazetteer GROUP BY kind, ref_key")
        ).all()
    }
    seen: set[tuple[str, str]] = set()
    stale: dict[str, list[str]] = {}
    rows: list[dict[str, Any]] = []
    added = changed = unchanged = 0
    for kind, ref_key, version, entries in source_entries(conn):
        seen.add((kind, ref_key))
        before = existing.get((kind, ref_key))
        if before == version:
            unchanged += 1
            continue
        if before is None:
            added += 1
        else:
            changed += 1
            stale.setdefault(kind, []).append(ref_key)
        rows += [_row(entry, version) for entry in entries]
    removed_keys = set(existing) - seen
    for kind, ref_key in removed_keys:
        stale.setdefault(kind, []).append(ref_key)
    for kind, keys in stale.items():
        conn.execute(delete(GazetteerEntry).where(GazetteerEntry.kind == kind, GazetteerEntry.ref_key.in_(keys)))
    if rows:
        conn.execute(insert(GazetteerEntry), rows)
    total = conn.execute(text("SELECT count(*) FROM gazetteer")).scalar_one()
    return RefreshStats(added, changed, len(removed_keys), unchanged, total)


def _row(entry: Entry, version: str) -> dict[str, Any]:
    return dict(
        kind=entry.kind,
        name=entry.name,
        canonical=entry.canonical,
        ref_key=entry.ref_key,
        township_code=entry.township_code,
        village_code=entry.village_code,
        geom=WKBElement(shapely.to_wkb(entry.geom), srid=4326) if entry.geom is not None else None,
        attrs=entry.attrs,
        source_version=version,
    )


def read_entries(conn: Connection) -> list[Entry]:
    """Every entry of the ``gazetteer`` table (one query), for building the in-memory index."""
    rows = conn.execute(
        text(
            "SELECT kind, name, canonical, ref_key, township_code, village_code, ST_AsBinary(geom) AS wkb, attrs "
            "FROM gazetteer ORDER BY kind, ref_key, id"
        )
    ).all()
    geoms = shapely.from_wkb([bytes(r.wkb) if r.wkb is not None else None for r in rows])
    return [
        Entry(r.kind, r.name, r.canonical, r.ref_key, r.township_code, r.village_code, g, dict(r.attrs or {}))
        for r, g in zip(rows, geoms, strict=True)
    ]
