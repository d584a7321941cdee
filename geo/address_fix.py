"""A person fixes a case's address: a new text geocoded again, or a point placed on the map.

The fix moves the case's point, records where the point came from (``attrs.geocode_source``:
``manual`` for a point placed on the map, ``manual_regeocode`` for a corrected text), takes the
case out of the review queue (:mod:`geo.case_review`) and teaches the geocoder: the address as the
case carried it becomes an address point (table ``address_points``, read into the gazetteer by
:mod:`geo.geocode.gazetteer`), so the next import of the same address lands there without review.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.case_review import COARSE_LEVELS, LOW_SCORE, UNMATCHED
from geo.case_segments import assign_case_segments
from geo.errors import RequestError
from geo.geocode import Geocoder
from geo.geocode.match import DOOR
from geo.geocode.normalize import fold_width
from geo.jurisdiction import squad_at_sql
from geo.region import get_region

MANUAL = "manual"  # a point placed on the map by a person
MANUAL_REGEOCODE = "manual_regeocode"  # a corrected address text, geocoded again
MANUAL_MATCHED = "人工标注"
_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
# Flags about the case's point (its coordinates, the squad of the jurisdiction it fell in): a person's
# point supersedes them; the next import re-checks the export's squad against the new point.
POINT_FLAGS = ("coord_", "squad_mismatch")


@dataclass(frozen=True)
class AddressFix:
    """What a fix did: the case, its new point and level, where it came from, what the geocoder learnt."""

    case_id: int
    case_number: str
    source: str
    lon: float
    lat: float
    level: str
    address: str | None
    learnt_key: str | None
    before: dict[str, Any]

    def audit_detail(self) -> dict[str, Any]:
        """The audit entry's detail (JSON): before and after."""
        return {
            "case_id": self.case_id,
            "source": self.source,
            "after": {
                "lon": round(self.lon, 7),
                "lat": round(self.lat, 7),
                "level": self.level,
                "address": self.address,
            },
            "before": self.before,
            "learnt": self.learnt_key,
        }


def fix_case_address(
    conn: Connection,
    case_id: int,
    geocoder: Geocoder,
    *,
    address: str | None = None,
    point: tuple[float, float] | None = None,
    username: str | None = None,
) -> AddressFix:
    """Fix the location of one case, inside the caller's transaction.

    Parameters
    ----------
    conn
        A connection in a transaction (the writer role).
    case_id
        The case.
    geocoder
        The geocoder over the current gazetteer (geocodes ``address``; gives the lookup form of the
        address it learns and the township of a placed point).
    address
        A corrected address text: geocoded; refused unless it is located precisely enough to leave
        the review queue.
    point
        (lon, lat) in WGS-84 placed by a person; wins over ``address`` (whose text is then stored as given).
    username
        Who fixed it (kept on the case and the learnt address point).

    Returns
    -------
    AddressFix

    Raises
    ------
    geo.errors.RequestError
        Unknown case, nothing given, a point outside the county, or a text the geocoder cannot place
        precisely (Chinese message for the page).
    """
    case = conn.execute(
        text(
            "SELECT id, case_number, address, geocode_level, geocode_score, flags, attrs,"
            " ST_X(geom) AS lon, ST_Y(geom) AS lat FROM cases WHERE id = :id FOR UPDATE"
        ),
        {"id": int(case_id)},
    ).one_or_none()
    if case is None:
        raise RequestError(f"案件（{case_id}）不存在")
    new_address = fold_width((address or "").strip()) or None
    if point is not None:
        lon, lat = float(point[0]), float(point[1])
        if geocoder.index.in_county(lon, lat) is False:
            raise RequestError(f"所选位置（{lon:.5f}, {lat:.5f}）不在县域内")
        source, level, score, matched = MANUAL, DOOR, 1.0, MANUAL_MATCHED
        township, village, segment = geocoder.index.township_at(lon, lat), None, None
    elif new_address:
        result = geocoder.geocode(new_address)
        if result.point is None or result.level in (UNMATCHED, *COARSE_LEVELS) or result.score < LOW_SCORE:
            why = result.reason or f"仅定位到{result.level}"
            raise RequestError(f"“{new_address}”无法精确定位（{why}），请修改地址或在地图上点选位置")
        lon, lat = result.point
        source, level, score = MANUAL_REGEOCODE, result.level, result.score
        matched = "、".join(result.matched) or None
        township, village, segment = result.township_code, result.village_code, result.segment_id
    else:
        raise RequestError("请填写地址或在地图上点选位置")
    before = {
        "lon": case.lon,
        "lat": case.lat,
        "level": case.geocode_level,
        "score": case.geocode_score,
        "address": case.address,
        "flags": list(case.flags or []),
    }
    flags = [f for f in case.flags or [] if not f.startswith(POINT_FLAGS)]
    attrs = {
        "geocode_source": source,
        "point_source": source,
        "fixed_by": username,
        "fixed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    conn.execute(
        text(
            f"UPDATE cases SET geom = {_POINT}, geocode_level = :level,"
            " geocode_score = :score, geocode_matched = :matched, township_code = COALESCE(:township, township_code),"
            f" squad_code = COALESCE({squad_at_sql(_POINT)}, squad_code),"
            " village_code = :village, segment_id = :segment, flags = :flags,"
            " address = COALESCE(:address, address), attrs = attrs || CAST(:attrs AS jsonb) WHERE id = :id"
        ),
        dict(
            id=case.id,
            lon=lon,
            lat=lat,
            level=level,
            score=score,
            matched=matched,
            township=township,
            village=village,
            segment=segment,
            flags=flags,
            address=new_address,
            attrs=json.dumps(attrs),
        ),
    )
    assign_case_segments(conn, get_region(), [case.id])  # the segment it counts on, by the one rule
    learnt = learn_address_point(
        conn, geocoder, case.address, (lon, lat), township, source=source, case_id=case.id, username=username
    )
    return AddressFix(case.id, case.case_number, source, lon, lat, level, new_address or case.address, learnt, before)


def learn_address_point(
    conn: Connection,
    geocoder: Geocoder,
    address: str | None,
    point: tuple[float, float],
    township_code: str | None,
    *,
    source: str,
    case_id: int | None = None,
    username: str | None = None,
) -> str | None:
    """Store ``address`` at ``point`` as an address point the geocoder matches exactly (latest fix wins).

    Returns the lookup form stored (:meth:`geo.geocode.Geocoder.lookup_key`), or None when the text
    cannot be an address point (empty, meaningless, outside the county).
    """
    key = geocoder.lookup_key(address)
    if key is None:
        return None
    conn.execute(
        text(
            "INSERT INTO address_points (point_key, address, township_code, geom, source, case_id, created_by)"
            " VALUES (:key, :address, :township, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :source, :case_id, :by)"
            " ON CONFLICT (point_key) DO UPDATE SET address = EXCLUDED.address, township_code = EXCLUDED.township_code,"
            " geom = EXCLUDED.geom, source = EXCLUDED.source, case_id = EXCLUDED.case_id,"
            " created_by = EXCLUDED.created_by, created_at = now()"
        ),
        dict(
            key=key,
            address=address,
            township=township_code,
            lon=point[0],
            lat=point[1],
            source=source,
            case_id=case_id,
            by=username,
        ),
    )
    return key
