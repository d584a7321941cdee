"""Load squad jurisdictions (辖区) as a new version that replaces the current one, and the squads they name.

Rows are grouped by squad code (ZDBM; a row with only a name takes the code of the known squad
of that name); parts of one squad are merged. The number of squads must be the region's
``expected_squads``, else the run fails naming the squads found. Gaps, overlaps and parts
beyond the county outline above a tolerance are reported as warnings with area and location.
A load whose polygons equal the current version writes nothing; otherwise the new version
becomes current in the same transaction that retires the old one, and street segments get the
squad of the jurisdiction they lie in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._features import Features, ewkb, read_features, resolve_squad_codes
from etl.jobs._job_run import run_file_job
from etl.jobs.registry import job
from etl.lookup import split_names, squad_at_sql, squad_codes
from etl.runs import Run, RunReport
from etl.tiling import check_tiling
from etl.upsert import merge
from geo.errors import ValidationError
from geo.models import Squad
from geo.region import Region, get_region
from geo.spatial import area_km2

JOB = job("jurisdictions")
MAX_TILING_WARNINGS = 20


def _township_codes(conn: Connection, names: list[str], run: Run, squad: str) -> list[str]:
    rows = conn.execute(
        text("SELECT code, name, aliases FROM admin_areas WHERE level = 'township' ORDER BY code")
    ).all()
    lookup: dict[str, str] = {}
    for code, name, aliases in rows:
        for key in (name, *(aliases or [])):
            lookup[key] = code
    codes, unknown = [], []
    for name in names:
        if name in lookup:
            codes.append(lookup[name])
        else:
            unknown.append(name)
    if unknown and rows:
        run.warn(f"squad {squad}: townships not in the region's gazetteer: {', '.join(unknown)}")
    return codes


def _tiling(run: Run, polygons: dict[str, object], region: Region) -> None:
    pieces = check_tiling(polygons, region.outline, region.metric_crs)
    run.stats["tiling"] = {
        kind: {
            "count": sum(p.kind == kind for p in pieces),
            "area_m2": round(sum(p.area_m2 for p in pieces if p.kind == kind)),
        }
        for kind in ("gap", "overlap", "outside")
    }
    for piece in pieces[:MAX_TILING_WARNINGS]:
        run.warn(piece.describe())
    if len(pieces) > MAX_TILING_WARNINGS:
        run.warn(f"… and {len(pieces) - MAX_TILING_WARNINGS} more tiling problems (see the run's stats)")


@dataclass
class _Squad:
    """The rows of one squad in the file, merged."""

    code: str
    names: list[str] = field(default_factory=list)
    parts: list = field(default_factory=list)
    townships: list[str] = field(default_factory=list)
    crs: set[str] = field(default_factory=set)
    rows: int = 0

    @property
    def name(self) -> str | None:
        return self.names[0] if self.names else None


def _group(features: Features, run: Run, known: dict[str, str]) -> dict[str, _Squad]:
    """Rows grouped by squad code (a row with only a name takes the known squad's code); others rejected."""
    codes = resolve_squad_codes(features, run, known)
    rows = zip(
        codes,
        features.text("name"),
        features.text("townships"),
        features.frame.geometry.values,
        features.frame["source_crs"],
        strict=True,
    )
    groups: dict[str, _Squad] = {}
    for code, name, townships, geom, crs in rows:
        squad = groups.setdefault(code, _Squad(code))
        if name and name not in squad.names:
            squad.names.append(name)
        squad.parts.append(geom)
        squad.townships += [t for t in split_names(townships) if t not in squad.townships]
        squad.crs.add(crs)
        squad.rows += 1
    run.loaded += len(codes)
    return dict(sorted(groups.items()))


def _replace_version(
    conn: Connection, run: Run, squads: dict[str, _Squad], polygons: dict[str, object], region: Region
) -> None:
    """Make the polygons the current version, unless they equal it; street segments follow their squad."""
    hexes = dict(zip(polygons, ewkb(list(polygons.values())), strict=True))
    current = {
        r.squad_code: (r.geom, r.name)
        for r in conn.execute(
            text("SELECT squad_code, ST_AsHexEWKB(geom) AS geom, name FROM jurisdictions WHERE is_current")
        )
    }
    if current == {code: (hexes[code].upper(), squads[code].name) for code in polygons}:
        run.stats["version"] = "unchanged"
        return
    version = conn.execute(text("SELECT coalesce(max(version), 0) + 1 FROM jurisdictions")).scalar_one()
    conn.execute(text("UPDATE jurisdictions SET is_current = false WHERE is_current"))
    conn.execute(
        text(
            "INSERT INTO jurisdictions (version, squad_code, name, is_current, geom, area_km2, attrs, source_crs, "
            "run_id) VALUES (:version, :code, :name, true, ST_GeomFromEWKB(decode(:geom, 'hex')), :area, "
            "CAST(:attrs AS jsonb), :crs, :run)"
        ),
        [
            dict(
                version=version,
                code=code,
                name=squads[code].name,
                geom=hexes[code],
                area=round(area_km2(polygons[code], region.metric_crs), 4),
                attrs=json.dumps({"townships": squads[code].townships, "rows": squads[code].rows}, ensure_ascii=False),
                crs=",".join(sorted(squads[code].crs)),
                run=run.id,
            )
            for code in polygons
        ],
    )
    run.stats["version"] = version
    run.stats["street_segments_reassigned"] = conn.execute(
        text(
            f"UPDATE street_segments s SET squad_code = m.code FROM (SELECT x.id, "
            f"{squad_at_sql('ST_LineInterpolatePoint(x.geom, 0.5)')} AS code "
            "FROM street_segments x) m WHERE m.id = s.id AND s.squad_code IS DISTINCT FROM m.code"
        )
    ).rowcount


def _multipolygon(geom) -> shapely.MultiPolygon:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and p.area > 0]
    return shapely.MultiPolygon(parts)


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
) -> RunReport:
    """Load squad jurisdictions from ``path`` (Shapefile, zip, GeoPackage, …) as one ETL run.

    Raises
    ------
    ValidationError
        When the number of squads differs from the region's ``expected_squads`` (names the squads).
    """
    region = get_region()

    def body(conn: Connection, run: Run) -> None:
        features = read_features(conn, run, Path(path), JOB.kind, "polygon", region, crs=crs, mapping=mapping)
        squads = _group(features, run, squad_codes(conn))
        if len(squads) != region.expected_squads:
            found = ", ".join(f"{c} {'/'.join(s.names) or '(no name)'}" for c, s in squads.items())
            raise ValidationError(
                f"{path}: {region.name} expects {region.expected_squads} squads but the file has "
                f"{len(squads)}: {found or 'none'}"
            )
        for code, squad in squads.items():
            if len(squad.names) > 1:
                run.warn(f"squad {code} has several names: {', '.join(squad.names)}; using {squad.name}")
        polygons = {code: _multipolygon(shapely.make_valid(shapely.union_all(s.parts))) for code, s in squads.items()}
        _tiling(run, polygons, region)
        rows = [
            dict(
                code=code,
                name=squad.name or code,
                township_codes=_township_codes(conn, squad.townships, run, code),
                run_id=run.id,
            )
            for code, squad in squads.items()
        ]
        merged = merge(conn, Squad.__table__, rows, JOB.merge_key)
        run.stats["squads"] = merged.counts()
        _replace_version(conn, run, squads, polygons, region)

    return run_file_job(engine, JOB, path, body, source_crs=crs, mapping=mapping, force=force)
