"""Load the region itself from its config: county outline, townships (with polygons) and villages with seats.

Works on an empty database from the region config alone. Township polygons come from the
configured polygon file or are derived (Voronoi of the seats, clipped to the outline) and then
marked approximate; villages without a known seat get an approximate one inside their
township (see ``geo/township_geometry.py``). Upserts by division code, so a second load
changes nothing.
"""

from __future__ import annotations

import shapely
import shapely.prepared
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from etl.jobs._case_checks import calendar_warning
from etl.jobs.due_times import recompute_due_times
from etl.runs import Run, RunReport, run_job
from geo.admin_names import admin_aliases, admin_kind, county_aliases, display_name
from geo.errors import ValidationError
from geo.models import AdminArea
from geo.outline_check import check_outline
from geo.region import Region
from geo.spatial import area_km2
from geo.township_geometry import read_csv, township_geometry


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
        check = check_outline(region)
        if check is not None:
            run.stats["outline_check_iou"] = round(check.configured.iou, 4)
            run.stats["outline_check_offset_m"] = round(check.configured.offset_m, 1)
            problem = check.problem()
            if problem:
                raise ValidationError(problem)
        multi = outline if isinstance(outline, MultiPolygon) else MultiPolygon([outline])
        county = dict(
            code=region.code.ljust(12, "0"),
            name=region.name,
            level="county",
            kind=admin_kind(region.name, "county"),
            parent_code=None,
            aliases=county_aliases(region.name, region.short_name),
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

        geometry = township_geometry(region)
        town_geo = geometry.townships.set_index("code")
        village_geo = geometry.villages.set_index("code")
        rows: list[dict] = []
        if region.townships_file is not None:
            towns = read_csv(region.townships_file)
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
                known = code in town_geo.index
                polygon = town_geo.at[code, "polygon"] if known else None
                area = _area(code, name, "township", county["code"], town_geo.at[code, "seat"] if known else None, run)
                area.update(
                    geom=from_shape(polygon, srid=4326) if polygon is not None else None,
                    area_km2=area_km2(polygon, region.metric_crs) if polygon is not None else None,
                    approximate=bool(
                        known and (town_geo.at[code, "approximate"] or town_geo.at[code, "seat_approximate"])
                    ),
                    source=region.townships_file.name
                    + (" + derived polygons" if known and town_geo.at[code, "approximate"] else ""),
                )
                rows.append(area)
        if region.villages_file is not None:
            villages = read_csv(region.villages_file)
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
                known = code in village_geo.index
                area = _area(code, name, "village", parent, village_geo.at[code, "seat"] if known else None, run)
                area.update(
                    approximate=bool(known and village_geo.at[code, "approximate"]),
                    source_crs=region.seats_crs if known and not village_geo.at[code, "approximate"] else "EPSG:4326",
                    source=region.villages_file.name,
                )
                rows.append(area)
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
        run.stats["approximate"] = sum(r["approximate"] for r in rows)
        # The config holds the time limits and the holiday calendar: due times of loaded cases follow it.
        due = recompute_due_times(conn, region)
        run.stats["due_times_recomputed"] = due.changed
        if due.gaps:
            run.stats["calendar_uncovered"] = {str(year): count for year, count in due.gaps.items()}
            run.warn(calendar_warning(due.gaps, region))

    # The hash covers the config and its reference files, so editing either reloads.
    return run_job(engine, "region", region.path.parent, body, source_crs=region.outline_crs)


def _area(code: str, name: str, level: str, parent: str, point: Point | None, run: Run) -> dict:
    return dict(
        code=code,
        name=display_name(name, level),
        level=level,
        kind=admin_kind(name, level),
        parent_code=parent,
        aliases=admin_aliases(name, level),
        approximate=False,
        geom=None,
        seat=from_shape(point, srid=4326) if point is not None else None,
        area_km2=None,
        source=None,
        source_crs="EPSG:4326" if point is not None else None,
        run_id=run.id,
        _point=point,
    )
