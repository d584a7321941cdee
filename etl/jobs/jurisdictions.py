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

from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._features import ewkb, read_features
from etl.lookup import split_names, squad_codes
from etl.runs import Run, RunReport, run_job
from etl.tiling import check_tiling
from etl.upsert import merge
from geo.errors import ValidationError
from geo.models import Squad
from geo.region import Region, get_region
from geo.spatial import area_km2

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
        features = read_features(conn, run, Path(path), "jurisdictions", "polygon", region, crs=crs, mapping=mapping)
        known = squad_codes(conn)
        codes = features.text("code")
        names = features.text("name")
        resolved = [c or known.get(n, "") for c, n in zip(codes, names, strict=True)]
        missing = np.array([not c for c in resolved], dtype=bool)
        reasons = [
            f"no squad code (ZDBM) and the name {n!r} is not a known squad" if n else "no squad code or name"
            for n, m in zip(names, missing, strict=True)
            if m
        ]
        features.reject(run, missing, reasons)
        codes = [c for c, m in zip(resolved, missing, strict=True) if not m]
        names = [n for n, m in zip(names, missing, strict=True) if not m]
        townships = list(features.text("townships"))

        groups: dict[str, dict] = {}
        for i, code in enumerate(codes):
            group = groups.setdefault(code, {"names": [], "parts": [], "townships": [], "crs": set(), "rows": 0})
            if names[i] and names[i] not in group["names"]:
                group["names"].append(names[i])
            group["parts"].append(features.frame.geometry.iloc[i])
            group["townships"] += [t for t in split_names(townships[i]) if t not in group["townships"]]
            group["crs"].add(features.frame["source_crs"].iloc[i])
            group["rows"] += 1
        found = ", ".join(f"{c} {'/'.join(g['names']) or '(no name)'}" for c, g in sorted(groups.items()))
        if len(groups) != region.expected_squads:
            raise ValidationError(
                f"{path}: {region.name} expects {region.expected_squads} squads but the file has "
                f"{len(groups)}: {found or 'none'}"
            )
        for code, group in groups.items():
            if len(group["names"]) > 1:
                run.warn(f"squad {code} has several names: {', '.join(group['names'])}; using {group['names'][0]}")

        polygons = {code: shapely.make_valid(shapely.union_all(g["parts"])) for code, g in sorted(groups.items())}
        polygons = {code: _multipolygon(geom) for code, geom in polygons.items()}
        _tiling(run, polygons, region)

        squads = [
            dict(
                code=code,
                name=g["names"][0] if g["names"] else code,
                township_codes=_township_codes(conn, g["townships"], run, code),
                run_id=run.id,
            )
            for code, g in sorted(groups.items())
        ]
        merged = merge(conn, Squad.__table__, squads, ["code"])
        run.stats["squads"] = {"inserted": merged.inserted, "updated": merged.updated, "unchanged": merged.unchanged}

        hexes = dict(zip(polygons, ewkb(list(polygons.values())), strict=True))
        current = {
            r.squad_code: (r.geom, r.name)
            for r in conn.execute(
                text("SELECT squad_code, ST_AsHexEWKB(geom) AS geom, name FROM jurisdictions WHERE is_current")
            )
        }
        wanted = {
            code: (hexes[code].upper(), groups[code]["names"][0] if groups[code]["names"] else None)
            for code in polygons
        }
        if current == wanted:
            run.stats["version"] = "unchanged"
        else:
            version = conn.execute(text("SELECT coalesce(max(version), 0) + 1 FROM jurisdictions")).scalar_one()
            conn.execute(text("UPDATE jurisdictions SET is_current = false WHERE is_current"))
            conn.execute(
                text(
                    "INSERT INTO jurisdictions (version, squad_code, name, is_current, geom, area_km2, attrs, "
                    "source_crs, run_id) VALUES (:version, :code, :name, true, ST_GeomFromEWKB(decode(:geom, 'hex')), "
                    ":area, CAST(:attrs AS jsonb), :crs, :run)"
                ),
                [
                    dict(
                        version=version,
                        code=code,
                        name=wanted[code][1],
                        geom=hexes[code],
                        area=round(area_km2(polygons[code], region.metric_crs), 4),
                        attrs=_json({"townships": groups[code]["townships"], "rows": groups[code]["rows"]}),
                        crs=",".join(sorted(groups[code]["crs"])),
                        run=run.id,
                    )
                    for code in polygons
                ],
            )
            run.stats["version"] = version
            moved = conn.execute(
                text(
                    "UPDATE street_segments s SET squad_code = m.code FROM (SELECT x.id, (SELECT j.squad_code "
                    "FROM jurisdictions j WHERE j.is_current AND ST_Intersects(j.geom, "
                    "ST_LineInterpolatePoint(x.geom, 0.5)) ORDER BY j.squad_code LIMIT 1) AS code "
                    "FROM street_segments x) m WHERE m.id = s.id AND s.squad_code IS DISTINCT FROM m.code"
                )
            ).rowcount
            run.stats["street_segments_reassigned"] = moved
        run.loaded += len(codes)

    return run_job(engine, "jurisdictions", path, body, source_crs=crs, force=force)


def _multipolygon(geom):
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and p.area > 0]
    return shapely.MultiPolygon(parts)


def _json(value: dict) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
