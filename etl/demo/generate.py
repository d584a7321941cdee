"""Generate the demo dataset: raw files in the bureau's formats under OUT_DIR/raw, known truth under OUT_DIR/truth."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon

from etl.demo.cases import CaseSet, generate_cases
from etl.demo.chiefs import Chief, build_chiefs
from etl.demo.geography import Geography, build_geography
from etl.demo.gps import (
    UTC_OFFSET,
    PatrolHabits,
    RouteShift,
    Track,
    on_duty,
    patrol_tracks,
    plan_habits,
    sanitation_tracks,
)
from etl.demo.places import Places, build_places
from etl.demo.routes import Route, build_routes
from etl.demo.streets import Network, build_network
from etl.demo.writers import (
    gpx_document,
    kml_document,
    write_csv,
    write_geojson,
    write_shapefile_zip,
    write_source_toml,
    write_xlsx,
)
from geo.crs import transform_geometry, wgs84_to_gcj02
from geo.region import Region, get_region

PATROL_DAYS = 14
SANITATION_DAYS = 14
PLAN_DAYS = 7  # last days whose patrols follow approved plans (etl.demo.planned_patrols, after the load)


def plan_days(patrol_days: int) -> int:
    """Days at the end of ``patrol_days`` whose patrols follow approved plans (at least one random day stays)."""
    return max(0, min(PLAN_DAYS, patrol_days - 1))


@dataclass
class DemoSummary:
    """What was generated: counts, sizes and timings."""

    out_dir: Path
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def size_bytes(self) -> int:
        """Total size of the raw files."""
        return sum(p.stat().st_size for p in (self.out_dir / "raw").rglob("*") if p.is_file())


COMPLETE_MARKER = ".complete"  # written in raw/ when a generation has finished


def default_end(region: Region) -> dt.date:
    """Yesterday in the region's time zone: the last complete day, so that no record lies in the future."""
    return dt.datetime.now(region.tz).date() - dt.timedelta(days=1)


def generate_demo(
    out_dir: Path | str,
    *,
    seed: int = 20211231,
    years: int = 2,
    scale: float = 1.0,
    end: dt.date | None = None,
    region: Region | None = None,
) -> DemoSummary:
    """Write the demo dataset to ``out_dir`` (replacing ``raw/`` and ``truth/`` there).

    Parameters
    ----------
    out_dir
        Target folder; ``raw/`` holds what the bureau would hand over, ``truth/`` what the
        generator knows and the ETL never reads.
    seed
        Random seed: the same seed, years, scale and end date give byte-identical files.
    years
        Years of cases, ending on ``end``.
    scale
        Multiplies case volumes, the number of street chiefs and sanitation GPS days.
    end
        Last day of the data (default: yesterday in the region's time zone, the last complete day).
    region
        The region config (default: the configured one).

    Returns
    -------
    DemoSummary
        Counts and timings.
    """
    region = region or get_region()
    end = end or default_end(region)
    out = Path(out_dir)
    raw, truth = out / "raw", out / "truth"
    for folder in (raw, truth):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    stamp = dt.datetime(end.year, end.month, end.day, 18, 0, 0)
    summary = DemoSummary(out)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        summary.seconds[name] = round(now - clock, 3)
        clock = now

    root = np.random.SeedSequence(seed)
    rngs = {
        name: np.random.default_rng(s)
        for name, s in zip(
            ["net", "places", "cases", "chiefs", "routes", "patrol", "sanitation", "stations", "habits"],
            root.spawn(9),
            strict=True,
        )
    }
    geo = build_geography(region)
    net = build_network(geo, rngs["net"])
    places = build_places(geo, net, rngs["places"])
    lap("geography")
    _write_jurisdictions(raw, truth, geo, stamp)
    _write_streets(raw, geo, net)
    _write_places(raw, geo, net, places)
    _write_stations(raw, geo, net, rngs["stations"])
    lap("static files")
    cases = generate_cases(geo, net, places, rngs["cases"], end, years, scale)
    lap("cases")
    _write_cases(raw, truth, cases, stamp)
    lap("case files")
    chiefs = build_chiefs(geo, net, rngs["chiefs"], scale)
    routes = build_routes(geo, net, rngs["routes"])
    _write_chiefs(raw, truth, geo, net, chiefs, stamp)
    _write_routes(raw, truth, geo, net, routes)
    patrol_days = max(2, round(PATROL_DAYS * min(1.0, scale)))
    sanitation_days = max(1, round(SANITATION_DAYS * scale))
    patrol_dates = [end - dt.timedelta(days=k) for k in range(patrol_days - 1, -1, -1)]
    shifts = region.warnings.shifts
    habits = plan_habits(chiefs, net, recent_cases(cases, net, end), shifts, patrol_dates, rngs["habits"])
    patrol = patrol_tracks(geo, net, chiefs, rngs["patrol"], end, patrol_days, habits)
    # On the plan days only the duty rota walks at random; the others follow approved plans, made after the load.
    planned_from = end - dt.timedelta(days=plan_days(patrol_days) - 1)
    patrol = [t for t in patrol if t.day < planned_from or t.subject in on_duty(habits, t.day)]
    sanitation, driven = sanitation_tracks(geo, routes, rngs["sanitation"], end, sanitation_days)
    lap("gps")
    _write_patrol(raw, truth, geo, net, patrol)
    _write_habits(truth, net, habits, shifts, patrol)
    _write_sanitation(raw, truth, geo, net, sanitation)
    _write_route_shifts(truth, net, driven)
    _write_roster(raw, geo, chiefs, patrol)
    lap("gps files")
    summary.counts = {
        "townships": len(geo.townships),
        "squads": len(geo.squads),
        "segments": len(net.seg_coords),
        "streets": len(net.streets),
        "places": len(places.name),
        "cases": len(cases.rows),
        "dirty_case_rows": int(cases.dirty["row"].nunique()),
        "chiefs": len(chiefs),
        "routes": len(routes),
        "patrol_tracks": len(patrol),
        "patrol_fixes": int(sum(len(t.t) for t in patrol)),
        "sanitation_fixes": int(sum(len(t.t) for t in sanitation)),
    }
    meta = {
        "seed": seed,
        "years": years,
        "scale": scale,
        "end": end.isoformat(),
        "patrol_days": patrol_days,
        "plan_days": plan_days(patrol_days),
        "sanitation_days": sanitation_days,
        "counts": summary.counts,
        "coordinate_systems": {
            "jurisdictions/squad_jurisdictions.zip": "EPSG:4490",
            "streets/streets.geojson": "EPSG:4326",
            "places/places.csv": "gcj02",
            "stations/stations.csv": "gcj02",
            "routes/sanitation_routes.kml": "gcj02",
            "gps/patrol/*.gpx": "EPSG:4326",
            "gps/sanitation/*.csv": "gcj02",
            "cases/*": "gcj02 (planted exceptions in dirty_rows.csv)",
        },
        "street_network": "synthetic",
        "township_polygons": "approximate (Voronoi of seats clipped to the county outline)",
    }
    (truth / "generation.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    readme = Path(__file__).with_name("TRUTH.md")
    shutil.copyfile(readme, truth / "README.md")
    lap("truth")
    (raw / COMPLETE_MARKER).write_text("complete\n", encoding="utf-8")  # last: a cut-short run has none
    return summary


RECENT_DAYS = 30  # the under-patrolled ranking's default window


def recent_cases(cases: CaseSet, net: Network, end: dt.date) -> np.ndarray:
    """Cases per network segment received in the ``RECENT_DAYS`` days up to ``end`` (planted duplicates once)."""
    index = {key: i for i, key in enumerate(net.seg_id)}
    first = (end - dt.timedelta(days=RECENT_DAYS - 1)).isoformat()
    received = cases.rows["上报时间"].astype(str).str[:10].to_numpy()
    frame = pd.DataFrame({"case": cases.truth["case_number"], "segment": cases.truth["segment_id"]})
    frame = frame[(received >= first) & (received <= end.isoformat())].drop_duplicates("case")
    segments = [index[s] for s in frame["segment"] if s in index]
    return np.bincount(np.array(segments, dtype=int), minlength=len(net.seg_id)).astype(float)


def _lonlat(geo: Geography, xy: np.ndarray, gcj: bool = False) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = geo.to_wgs(xy[:, 0], xy[:, 1])
    return wgs84_to_gcj02(lon, lat) if gcj else (lon, lat)


def _write_jurisdictions(raw: Path, truth: Path, geo: Geography, stamp: dt.datetime) -> None:
    crs = geo.region.metric_crs
    names = {t.code: t.name for t in geo.townships}
    geoms = [MultiPolygon(shapely.get_parts(transform_geometry(s.polygon, crs))) for s in geo.squads]
    frame = gpd.GeoDataFrame(
        {
            "ZDBM": [s.code for s in geo.squads],
            "ZDMC": [s.name for s in geo.squads],
            "XZQMC": ["、".join(names[c] for c in s.townships) for s in geo.squads],
        },
        geometry=geoms,
        crs="EPSG:4490",
    )
    folder = raw / "jurisdictions"
    folder.mkdir()
    write_shapefile_zip(folder / "squad_jurisdictions.zip", frame, stamp, "squad_jurisdictions")
    towns = [
        {
            "type": "Feature",
            "properties": {"code": t.code, "name": t.name, "squad": t.squad, "approximate": True},
            "geometry": shapely.geometry.mapping(transform_geometry(t.polygon, crs)),
        }
        for t in geo.townships
    ]
    write_geojson(truth / "townships_approximate.geojson", towns)
    lon, lat = _lonlat(geo, np.vstack([s.station for s in geo.squads]))
    pd.DataFrame(
        {
            "squad_code": [s.code for s in geo.squads],
            "squad_name": [s.name for s in geo.squads],
            "township_codes": [";".join(s.townships) for s in geo.squads],
            "townships": ["、".join(names[c] for c in s.townships) for s in geo.squads],
            "station_lon": np.round(lon, 7),
            "station_lat": np.round(lat, 7),
            "officers": [s.officers for s in geo.squads],
            "delay_min": [s.delay_min for s in geo.squads],
            "speed_kmh": [s.speed_kmh for s in geo.squads],
        }
    ).to_csv(truth / "squads.csv", index=False)


def _write_streets(raw: Path, geo: Geography, net: Network) -> None:
    features = []
    for s, coords in enumerate(net.seg_coords):
        lon, lat = _lonlat(geo, coords)
        street = net.streets[net.seg_street[s]]
        doors = net.doors[s]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "segment_id": net.seg_id[s],
                    "name": street.name,
                    "road_class": street.road_class,
                    "township": geo.townships[net.seg_township[s]].code,
                    "left_from": doors[0] if doors else None,
                    "left_to": doors[1] if doors else None,
                    "right_from": doors[2] if doors else None,
                    "right_to": doors[3] if doors else None,
                },
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [round(x, 7), round(y, 7)] for x, y in zip(lon.tolist(), lat.tolist(), strict=True)
                    ],
                },
            }
        )
    folder = raw / "streets"
    folder.mkdir()
    write_geojson(folder / "streets.geojson", features)


def _write_gcj02_table(folder: Path, name: str, frame: pd.DataFrame, encoding: str) -> None:
    """A CSV of GCJ-02 points in a folder of its own, with the source.toml that says so."""
    folder.mkdir()
    write_csv(folder / name, frame, encoding)
    write_source_toml(folder, "gcj02")


def _write_places(raw: Path, geo: Geography, net: Network, places: Places) -> None:
    lon, lat = _lonlat(geo, places.xy, gcj=True)
    frame = pd.DataFrame(
        {
            "place_id": places.place_id,
            "name": places.name,
            "kind": places.kind,
            "address": places.address,
            "township": [geo.townships[t].code for t in places.township],
            "经度": np.char.mod("%.6f", lon),
            "纬度": np.char.mod("%.6f", lat),
        }
    )
    _write_gcj02_table(raw / "places", "places.csv", frame, "utf-8-sig")


def _write_stations(raw: Path, geo: Geography, net: Network, rng: np.random.Generator) -> None:
    named = [s for s in range(len(net.seg_coords)) if net.doors[s] is not None]
    mids = np.vstack([net.seg_coords[s].mean(axis=0) for s in named])
    addresses = []
    for squad in geo.squads:
        s = named[int(np.argmin(((mids - squad.station) ** 2).sum(axis=1)))]
        town = geo.townships[net.seg_township[s]]
        number = net.doors[s][0] + 2 * int(rng.integers(0, 6))
        addresses.append(f"{geo.region.name}{town.name}{net.streets[net.seg_street[s]].name}{number}号")
    lon, lat = _lonlat(geo, np.vstack([s.station for s in geo.squads]), gcj=True)
    phone = geo.config.station_phone_prefix
    frame = pd.DataFrame(
        {
            "中队编号": [s.code for s in geo.squads],
            "中队名称": [s.name for s in geo.squads],
            "地址": addresses,
            "联系电话": [f"{phone}{int(x):06d}" for x in rng.integers(0, 10**6, len(geo.squads))],
            "在编人数": [s.officers for s in geo.squads],
            "经度": np.char.mod("%.6f", lon),
            "纬度": np.char.mod("%.6f", lat),
        }
    )
    _write_gcj02_table(raw / "stations", "stations.csv", frame, "gbk")


def _write_cases(raw: Path, truth: Path, cases: CaseSet, stamp: dt.datetime) -> None:
    rows, facts = cases.rows, cases.truth
    n_original = len(rows) - len(cases.duplicates)
    # originals are in time order: oldest 40 % as XLSX, then 30 % GBK CSV, newest 30 % UTF-8 BOM CSV
    part = np.zeros(len(rows), dtype=int)
    cut1, cut2 = int(n_original * 0.4), int(n_original * 0.7)
    part[:n_original] = np.where(np.arange(n_original) < cut1, 0, np.where(np.arange(n_original) < cut2, 1, 2))
    for i, original, conflicting in cases.duplicates:
        # an exact copy sits in the same export; a changed one turns up again in the next export
        part[i] = min(2, part[original] + 1) if conflicting else part[original]
    folder = raw / "cases"
    folder.mkdir()
    kinds = [("xlsx", None), ("csv", "gbk"), ("csv", "utf-8-sig")]
    facts = facts.copy()
    facts["file"] = ""
    facts["row"] = 0
    for k, (ext, encoding) in enumerate(kinds):
        idx = np.flatnonzero(part == k)
        order = idx[np.argsort(rows["上报时间"].to_numpy()[idx], kind="stable")]
        chunk = rows.iloc[order]
        own = rows["上报时间"].to_numpy()[idx[idx < n_original]]  # name the export by its own period
        first, last = own.min()[:10], own.max()[:10]
        suffix = {"gbk": "_gbk", "utf-8-sig": "_utf8"}.get(encoding or "", "")
        name = f"cases_{first}_{last}{suffix}.{ext}"
        if ext == "xlsx":
            write_xlsx(folder / name, chunk, "案件列表", stamp)
        else:
            write_csv(folder / name, chunk, encoding)
        facts.loc[order, "file"] = name
        facts.loc[order, "row"] = np.arange(1, len(order) + 1)
    columns = ["file", "row", *[c for c in facts.columns if c not in ("file", "row")]]
    facts[columns].to_csv(truth / "cases.csv", index=False)
    dirty = cases.dirty.copy()
    dirty["file"] = facts["file"].to_numpy()[dirty["row"].to_numpy()]
    dirty["file_row"] = facts["row"].to_numpy()[dirty["row"].to_numpy()]
    dirty[["file", "file_row", "case_number", "kind", "detail"]].sort_values(["file", "file_row"]).to_csv(
        truth / "dirty_rows.csv", index=False
    )


def _write_chiefs(
    raw: Path, truth: Path, geo: Geography, net: Network, chiefs: list[Chief], stamp: dt.datetime
) -> None:
    frame = pd.DataFrame(
        {
            "街路长编号": [c.code for c in chiefs],
            "姓名": [c.name for c in chiefs],
            "联系电话": [c.phone for c in chiefs],
            "所属中队": [geo.squads[c.squad].name for c in chiefs],
            "职务": [c.role for c in chiefs],
            "负责街路": ["、".join(net.streets[s].name for s in c.streets) for c in chiefs],
        }
    )
    folder = raw / "chiefs"
    folder.mkdir()
    write_xlsx(folder / "street_chiefs.xlsx", frame, "街路长名册", stamp)
    rows = [
        (c.code, net.streets[net.seg_street[s]].name, net.seg_id[s], round(w, 4), w < 0.05)
        for c in chiefs
        for s, w in zip(c.segments, c.weights, strict=True)
    ]
    pd.DataFrame(rows, columns=["chief_code", "street", "segment_id", "patrol_weight", "neglected"]).to_csv(
        truth / "chief_segments.csv", index=False
    )


def _write_routes(raw: Path, truth: Path, geo: Geography, net: Network, routes: list[Route]) -> None:
    placemarks = []
    for r in routes:
        lon, lat = _lonlat(geo, r.line, gcj=True)
        data = {
            "路线编号": r.code,
            "车辆": r.vehicle,
            "班组": r.crew,
            "作业时间": "，".join(f"{a}-{b}" for a, b in r.shifts),
            "所属中队": geo.squads[r.squad].name,
        }
        placemarks.append((r.name, data, np.column_stack([lon, lat])))
    folder = raw / "routes"
    folder.mkdir()
    (folder / "sanitation_routes.kml").write_text(kml_document("环卫清扫路线", placemarks), encoding="utf-8")
    pd.DataFrame(
        {
            "route_code": [r.code for r in routes],
            "vehicle": [r.vehicle for r in routes],
            "squad_code": [geo.squads[r.squad].code for r in routes],
            "segment_ids": [";".join(net.seg_id[s] for s in dict.fromkeys(r.segments)) for r in routes],
        }
    ).to_csv(truth / "routes.csv", index=False)


def _write_patrol(raw: Path, truth: Path, geo: Geography, net: Network, tracks: list[Track]) -> None:
    base = raw / "gps" / "patrol"
    base.mkdir(parents=True)
    rows = []
    for tr in sorted(tracks, key=lambda t: (t.subject, t.day)):
        if not len(tr.t):
            continue
        folder = base / tr.subject
        folder.mkdir(exist_ok=True)
        lon, lat = geo.to_wgs(tr.x, tr.y)
        name = f"{tr.day.isoformat()}.gpx"
        (folder / name).write_text(gpx_document(tr.subject, tr.t, lon, lat), encoding="utf-8")
        visited = list(dict.fromkeys(tr.segments))
        rows.append(
            (
                tr.subject,
                tr.day.isoformat(),
                len(tr.t),
                len(visited),
                ";".join(net.seg_id[s] for s in visited),
                tr.jumps,
                tr.gaps,
                tr.stops,
            )
        )
    pd.DataFrame(
        rows, columns=["chief_code", "date", "fixes", "segments_visited", "segment_ids", "jumps", "gaps", "stops"]
    ).to_csv(truth / "patrol_days.csv", index=False)


ROSTER_DAYS = 7  # the demo's duty roster covers the patrols of its last days (the config shifts rule before)


def _write_roster(raw: Path, geo: Geography, chiefs: list[Chief], tracks: list[Track]) -> None:
    """The duty roster (排班) of the last ``ROSTER_DAYS`` patrol days: one period per patrol session of a
    chief (fixes split at gaps over two hours), from the full hour of its first fix to two hours past
    that of its last."""
    squads = {c.code: geo.squads[c.squad].name for c in chiefs}
    last = max((tr.day for tr in tracks), default=None)
    rows = []
    for tr in sorted(tracks, key=lambda t: (t.day, t.subject)):
        if last is None or not len(tr.t) or (last - tr.day).days >= ROSTER_DAYS:
            continue
        local = np.sort(tr.t) + UTC_OFFSET
        breaks = np.flatnonzero(np.diff(local) > np.timedelta64(2 * 3600, "s")) + 1
        for part in np.split(local, breaks):
            first, final = (part[i].astype("datetime64[s]").item().replace(minute=0, second=0) for i in (0, -1))
            end = final + dt.timedelta(hours=2)  # past midnight: the loader reads it as the next day
            rows.append((tr.subject, tr.day.isoformat(), f"{first:%H:%M}", f"{end:%H:%M}", squads.get(tr.subject, "")))
    folder = raw / "roster"
    folder.mkdir(parents=True)
    write_csv(folder / "roster.csv", pd.DataFrame(rows, columns=["工号", "日期", "开始", "结束", "中队"]), "utf-8-sig")


def _write_sanitation(raw: Path, truth: Path, geo: Geography, net: Network, tracks: list[Track]) -> None:
    folder = raw / "gps" / "sanitation"
    folder.mkdir(parents=True)
    write_source_toml(folder, "gcj02")
    tracks = sorted(tracks, key=lambda t: (t.day, t.subject))
    if not tracks:
        return
    t = np.concatenate([tr.t for tr in tracks]) + UTC_OFFSET
    x = np.concatenate([tr.x for tr in tracks])
    y = np.concatenate([tr.y for tr in tracks])
    lon, lat = wgs84_to_gcj02(*geo.to_wgs(x, y))
    frame = pd.DataFrame(
        {
            "车牌号": np.concatenate([[tr.subject] * len(tr.t) for tr in tracks]),
            "定位时间": np.char.replace(np.datetime_as_string(t, unit="s"), "T", " "),
            "经度": np.char.mod("%.6f", lon),
            "纬度": np.char.mod("%.6f", lat),
            "速度(km/h)": np.char.mod("%.1f", np.concatenate([tr.speed_kmh for tr in tracks])),
            "方向": np.concatenate([tr.heading for tr in tracks]).round().astype(int) % 360,
        }
    )
    month = frame["定位时间"].str[:7]
    for key in sorted(month.unique()):
        write_csv(folder / f"{key}.csv", frame[month == key], "gbk")
    pd.DataFrame(
        [(tr.subject, tr.day.isoformat(), len(tr.t), tr.jumps, tr.gaps) for tr in tracks],
        columns=["vehicle", "date", "fixes", "jumps", "gaps"],
    ).to_csv(truth / "sanitation_days.csv", index=False)


def _write_habits(truth: Path, net: Network, habits: PatrolHabits, shifts, tracks: list[Track]) -> None:
    """The planted hot-segment skips (per chief, segment and day walked at random: on a plan day the chief
    follows the plan instead) and the on-duty rota (per day and shift)."""
    walked = {(t.subject, t.day) for t in tracks}
    pd.DataFrame(
        [
            (code, net.seg_id[s], net.streets[net.seg_street[s]].name, day.isoformat())
            for code, skip in sorted(habits.skips.items())
            for s in skip.segments
            for day in sorted(skip.days)
            if (code, day) in walked
        ],
        columns=["chief_code", "segment_id", "street", "date"],
    ).to_csv(truth / "patrol_skips.csv", index=False)
    pd.DataFrame(
        [
            (day.isoformat(), f"{shifts[k][0]:02d}:00-{shifts[k][1]:02d}:00", code)
            for (day, k), codes in sorted(habits.duty.items())
            for code in codes
        ],
        columns=["date", "shift", "chief_code"],
    ).to_csv(truth / "duty_rota.csv", index=False)


def _write_route_shifts(truth: Path, net: Network, driven: list[RouteShift]) -> None:
    """Per route, day and scheduled shift: minutes late (empty: not driven), segments swept and missed."""
    pd.DataFrame(
        [
            (
                r.route,
                r.vehicle,
                r.day.isoformat(),
                r.scheduled,
                r.late_min,
                not np.isnan(r.late_min),
                len(r.swept),
                len(r.missed),
                ";".join(net.seg_id[s] for s in r.missed),
            )
            for r in sorted(driven, key=lambda r: (r.day, r.route, r.scheduled))
        ],
        columns=[
            "route_code",
            "vehicle",
            "date",
            "scheduled_start",
            "late_min",
            "driven",
            "swept",
            "missed",
            "missed_ids",
        ],
    ).to_csv(truth / "route_shifts.csv", index=False)
