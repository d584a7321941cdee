"""Where a case is: its phone coordinates when usable, else its geocoded address; conflicts flagged.

Also the guard against another region's file: when most located rows lie outside the region or
match no address in it, the run stops (unless ``--accept-foreign``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
import shapely.prepared

from etl.jobs._case_checks import (
    MISMATCH_M,
    WGS84_AS_GCJ02_CONVERTED_M,
    WGS84_AS_GCJ02_RAW_M,
    foreign_file_problem,
    parse_coordinate,
)
from etl.jobs._case_row import CaseRow
from etl.runs import Run
from geo.crs import to_wgs84
from geo.errors import InputError
from geo.geocode import GeocodeResult
from geo.geocode.match import distance_m
from geo.region import Region

ADDRESS_DEPENDENT_FLAGS = ("coord_address_mismatch", "coord_wgs84_as_gcj02")
SWAP_MARGIN_DEG = 0.5  # a point this far around the region's box is plausible as lon/lat (else: swapped?)
NEAR_OUTLINE_DEG = 0.005  # a phone point this close outside the outline still counts as inside
EXACT_LEVELS = frozenset({"门牌", "交叉口", "小区或地点"})  # levels precise enough to tell WGS-84 from GCJ-02


def place(rows: list[CaseRow], results: list[GeocodeResult | None], region: Region, crs: str, run: Run) -> None:
    """Choose each case's point: the phone coordinates (in ``crs``) when usable, else the geocoded address.

    A row that gives neither coordinates nor an address keeps the stored point and its coordinate flags.
    """
    raw = _raw_coordinates(rows, region)
    have = [i for i, p in enumerate(raw) if p is not None]
    if have:
        lon, lat = to_wgs84(np.array([raw[i][0] for i in have]), np.array([raw[i][1] for i in have]), crs)
    near = shapely.prepared.prep(region.outline.buffer(NEAR_OUTLINE_DEG))
    wgs_suspects = checked = 0
    for k, i in enumerate(have):
        row, result = rows[i], results[i]
        point = (float(lon[k]), float(lat[k]))
        if not near.contains(shapely.Point(point)):
            row.flag("coord_outside_county", f"坐标在{region.name}外：{point[0]:.5f}, {point[1]:.5f}")
            continue
        row.attrs["coordinates_inside"] = True
        if _comparable(result):
            checked += 1
            if crs == "gcj02" and result.level in EXACT_LEVELS and _wgs84_all_along(row, point, raw[i], result):
                wgs_suspects += 1
                point = raw[i]
            _check_distance(row, point, result)
        _set_point(row, point, "coordinates", crs)
    if checked >= 5 and wgs_suspects >= checked / 2:
        run.warn(
            f"{wgs_suspects} of {checked} cases have coordinates that match their address as WGS-84, not as "
            f"{crs}: load again with --crs wgs84 if the export is WGS-84"
        )
    for row, result in zip(rows, results, strict=True):
        if "point" not in row.attrs and "geom" not in row.record:
            _fallback_point(row, result)


def _raw_coordinates(rows: list[CaseRow], region: Region) -> list[tuple[float, float] | None]:
    """The coordinates each row gives (lon/lat swapped back when they were swapped), flagged when invalid."""
    x0, y0, x1, y1 = region.outline.bounds
    m = SWAP_MARGIN_DEG
    raw: list[tuple[float, float] | None] = []
    for row in rows:
        parsed = None
        if "lon" in row.given or "lat" in row.given:
            row.attrs["coordinates_given"] = True
            parsed = parse_coordinate(row.given.get("lon"), row.given.get("lat"))
        if parsed == "invalid":
            row.flag("coord_invalid", f"坐标无法解析：{row.given.get('lon')}, {row.given.get('lat')}")
            parsed = None
        if parsed is not None:
            x, y = parsed
            inside_box = x0 - m <= x <= x1 + m and y0 - m <= y <= y1 + m
            if not inside_box and x0 - m <= y <= x1 + m and y0 - m <= x <= y1 + m:
                row.flag("coord_swapped", "经度、纬度两列颠倒，已对调")
                parsed = (y, x)
            row.attrs["raw_coordinate"] = [x, y]
        raw.append(parsed)
    return raw


def _comparable(result: GeocodeResult | None) -> bool:
    """True when the geocoded address is precise enough to check a phone point against."""
    return result is not None and result.point is not None and result.level in MISMATCH_M


def _wgs84_all_along(
    row: CaseRow, converted: tuple[float, float], as_given: tuple[float, float], result: GeocodeResult
) -> bool:
    """True (and flagged) when the point matches its address as given (WGS-84), not converted from GCJ-02."""
    gap = distance_m(converted, result.point)
    gap_raw = distance_m(as_given, result.point)
    if gap_raw <= WGS84_AS_GCJ02_RAW_M and gap >= WGS84_AS_GCJ02_CONVERTED_M:
        row.flag("coord_wgs84_as_gcj02", f"坐标按WGS-84处理距地址{gap_raw:.0f}米，按GCJ-02处理{gap:.0f}米")
        return True
    return False


def _check_distance(row: CaseRow, point: tuple[float, float], result: GeocodeResult) -> None:
    """Record how far the point lies from its geocoded address; flag it beyond the level's tolerance."""
    gap = distance_m(point, result.point)
    row.attrs["address_distance_m"] = round(gap, 1)
    if gap > MISMATCH_M[result.level]:
        row.flag("coord_address_mismatch", f"坐标与地址（{result.level}）相距{gap:.0f}米")


def _set_point(row: CaseRow, point: tuple[float, float] | None, source: str | None, crs: str | None) -> None:
    row.record["geom"] = f"SRID=4326;POINT({point[0]:.8f} {point[1]:.8f})" if point else None
    row.record["source_crs"] = crs if point else None
    row.attrs["point_source"] = source if point else None
    if point:
        row.attrs["point"] = point


def _fallback_point(row: CaseRow, result: GeocodeResult | None) -> None:
    """The point of a row without usable coordinates of its own: stored phone point, else the address."""
    stored = row.stored or {}
    stored_point = _point_of(stored.get("geom"))
    stored_source = (stored.get("attrs") or {}).get("point_source")
    coordinates_given = row.attrs.get("coordinates_given", False)
    if not coordinates_given:
        row.keep_stored_flags("coord_", exclude=ADDRESS_DEPENDENT_FLAGS if result is not None else ())
    if not coordinates_given and stored_point and stored_source == "coordinates":
        row.attrs["point"] = stored_point  # the phone point stays; only its distance to a new address is checked
        if _comparable(result):
            _check_distance(row, stored_point, result)
    elif result is not None:
        _set_point(row, result.point, "address", None)
    elif stored_point:
        row.attrs["point"] = stored_point


def _point_of(geom: Any) -> tuple[float, float] | None:
    """(lon, lat) of a stored point geometry (``WKBElement``), or None."""
    if geom is None:
        return None
    point = shapely.from_wkb(bytes(geom.data))
    return (point.x, point.y)


def refuse_foreign(
    rows: list[CaseRow], results: list[GeocodeResult | None], region: Region, run: Run, accept: bool
) -> None:
    """Stop when the file's located rows mostly lie outside the region or match nothing (unless ``accept``)."""
    located = foreign = 0
    for row, result in zip(rows, results, strict=True):
        address = result is not None and bool((row.given.get("address") or "").strip())
        coordinates = "raw_coordinate" in row.attrs
        if not (address or coordinates):
            continue
        located += 1
        inside = row.attrs.get("coordinates_inside") or (address and result.level != "未匹配")
        foreign += not inside
    problem = foreign_file_problem(foreign, located, region)
    if problem is None:
        return
    if not accept:
        raise InputError(f"{run.source_path}: {problem}; nothing was loaded (--accept-foreign loads it anyway)")
    run.warn(f"{problem}; loaded because --accept-foreign was given")
