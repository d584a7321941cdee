"""Load the region itself from its config: county outline, townships and villages with their seats.

Works on an empty database from the region config alone. Upserts by division code, so a
second load changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import shapely
import shapely.prepared
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from etl.runs import Run, RunReport, run_job
from geo.admin_names import admin_aliases, admin_kind, display_name
from geo.crs import to_wgs84
from geo.errors import InputError, ValidationError
from geo.models import AdminArea
from geo.region import Region
from geo.spatial import area_km2

# Columns of the adcode division table (the file has no header row).
ADCODE_COLUMNS = [
    "code",
    "parent",
    "name",
    "level",
    "rank",
    "adcode",
    "post_code",
    "area_code",
    "ur_code",
    "municipality",
    "virtual",
    "dummy",
    "longitude",
    "latitude",
    "center",
    "province",
    "city",
    "county",
    "town",
    "village",
]


def _read_csv(path: Path, names: list[str] | None = None) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, header=None if names else "infer", names=names)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def _seats(region: Region) -> dict[str, tuple[float, float]]:
    """Seat points (WGS-84) keyed by 9-digit township code and by (township code, village name)."""
    if region.seats_file is None:
        return {}
    table = _read_csv(region.seats_file, ADCODE_COLUMNS)
    table = table[(table["longitude"] != "") & (table["latitude"] != "")]
    lon, lat = to_wgs84(table["longitude"].astype(float), table["latitude"].astype(float), region.seats_crs)
    seats: dict[str, tuple[float, float]] = {}
    for (_, row), x, y in zip(table.iterrows(), lon, lat, strict=True):
        if row["level"] == "town":
            seats[row["code"][:9]] = (float(x), float(y))
        elif row["level"] == "village":
            seats[f"{row['code'][:9]}:{display_name(row['name'], 'village')}"] = (float(x), float(y))
    return seats


def _upsert(conn: Connection, rows: list[dict]) -> None:
    if not rows:
        return
    statement = insert(AdminArea).values(rows)
    columns = {c: statement.excluded[c] for c in rows[0] if c != "code"}
    conn.execute(statement.on_conflict_do_update(index_elements=["code"], set_=columns))


def load_region(engine: Engine, region: Region) -> RunReport:
    """Load the county, its townships and villages (with seats where known) as one ETL run."""

    def body(conn: Connection, run: Run) -> None:
        outline = region.outline
        iou = region.outline_check()
        if iou is not None:
            run.stats["outline_check_iou"] = round(iou, 4)
            if iou < region.outline_check_min_iou:
                raise ValidationError(
                    f"the county outline disagrees with the check outline (IoU {iou:.3f} < "
                    f"{region.outline_check_min_iou}): wrong CRS in [outline]?"
                )
        multi = outline if isinstance(outline, MultiPolygon) else MultiPolygon([outline])
        county = dict(
            code=region.code.ljust(12, "0"),
            name=region.name,
            level="county",
            kind=admin_kind(region.name, "county"),
            parent_code=None,
            aliases=admin_aliases(region.name, "county"),
            approximate=False,
            geom=from_shape(multi, srid=4326),
            seat=None,
            area_km2=area_km2(multi, region.metric_crs),
            source=str(region.outline_file.name),
            source_crs=region.outline_crs,
            run_id=run.id,
        )
        run.read += 1
        _upsert(conn, [county])
        run.loaded += 1

        seats = _seats(region)
        rows: list[dict] = []
        if region.townships_file is not None:
            towns = _read_csv(region.townships_file)
            for number, row in enumerate(towns.to_dict("records"), start=2):
                run.read += 1
                code, name = row.get("code", "").strip(), row.get("name", "").strip()
                if len(code) != 9 or not code.startswith(region.code) or not name:
                    run.reject(
                        number,
                        row,
                        "township row needs a 9-digit code of this county and a name",
                        str(region.townships_file),
                    )
                    continue
                seat = seats.get(code)
                rows.append(_area(code, name, "township", county["code"], seat, region.townships_file, run))
        if region.villages_file is not None:
            villages = _read_csv(region.villages_file)
            for number, row in enumerate(villages.to_dict("records"), start=2):
                run.read += 1
                code, name = row.get("code", "").strip(), row.get("name", "").strip()
                parent = row.get("streetCode", "").strip() or code[:9]
                if len(code) != 12 or not code.startswith(region.code) or not name:
                    run.reject(
                        number,
                        row,
                        "village row needs a 12-digit code of this county and a name",
                        str(region.villages_file),
                    )
                    continue
                seat = seats.get(f"{parent}:{display_name(name, 'village')}")
                rows.append(_area(code, name, "village", parent, seat, region.villages_file, run))
        near = shapely.prepared.prep(outline.buffer(0.01))
        outside = [r["name"] for r in rows if r["_point"] is not None and not near.contains(r["_point"])]
        if outside:
            run.warn(f"seats outside the county outline: {', '.join(outside)}")
        for r in rows:
            r.pop("_point")
        _upsert(conn, rows)
        run.loaded += len(rows)
        run.stats["townships"] = sum(r["level"] == "township" for r in rows)
        run.stats["villages"] = sum(r["level"] == "village" for r in rows)
        run.stats["with_seat"] = sum(r["seat"] is not None for r in rows)

    # The hash covers the config and its reference files, so editing either reloads.
    return run_job(engine, "region", region.path.parent, body, source_crs=region.outline_crs)


def _area(code: str, name: str, level: str, parent: str, seat, source: Path, run: Run) -> dict:
    point = Point(seat) if seat else None
    return dict(
        code=code,
        name=display_name(name, level),
        level=level,
        kind=admin_kind(name, level),
        parent_code=parent,
        aliases=admin_aliases(name, level),
        approximate=False,
        geom=None,
        seat=from_shape(point, srid=4326) if point else None,
        area_km2=None,
        source=source.name,
        source_crs="gcj02" if point else None,
        run_id=run.id,
        _point=point,
    )
