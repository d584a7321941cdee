"""The GPS job end to end on real PostGIS: GPX and GCJ-02 CSV in, fixes, matches and segment visits out."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import gpxpy
import gpxpy.gpx
import numpy as np
import pytest
from sqlalchemy import Engine, text

from etl.jobs.gps import load, rematch
from geo.crs import from_wgs84, to_wgs84, wgs84_to_gcj02
from geo.errors import InputError
from geo.region import get_region
from geo.settings import PROJECT_ROOT

ORIGIN = (119.815, 28.895)  # in Wuyi's county seat
T0 = dt.datetime(2025, 3, 3, 0, 30, tzinfo=dt.UTC)  # 08:30 local
# Two crossing streets through the origin, each cut in two segments at the junction (metres from ORIGIN)
SEGMENTS = {
    1: [(-200, 0), (0, 0)],  # east-west street, west half
    2: [(0, 0), (200, 0)],  # east-west street, east half
    3: [(0, -200), (0, 0)],  # north-south street, south half
    4: [(0, 0), (0, 200)],  # north-south street, north half
}


def metric_origin() -> tuple[float, float]:
    x0, y0 = from_wgs84(*ORIGIN, get_region().metric_crs)
    return float(x0), float(y0)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """WGS-84 of a point given in metres east/north of ORIGIN."""
    x0, y0 = metric_origin()
    lon, lat = to_wgs84(x0 + x, y0 + y, get_region().metric_crs)
    return float(lon), float(lat)


def add_streets(engine: Engine) -> None:
    with engine.begin() as conn:
        for number, line in SEGMENTS.items():
            wkt = "LINESTRING(" + ", ".join("{} {}".format(*lonlat(x, y)) for x, y in line) + ")"
            conn.execute(
                text(
                    "INSERT INTO street_segments (id, segment_key, name, geom) "
                    "VALUES (:i, :k, :n, ST_GeomFromText(:w, 4326))"
                ),
                {"i": number, "k": f"S{number}", "n": "东西路" if number <= 2 else "南北路", "w": wkt},
            )


def east_walk() -> list[tuple[float, float, float]]:
    """Chief C001: walks east along the east-west street (3 m north of it) at 1.5 m/s, one fix per 5 s."""
    return [(5.0 * i, -150 + 7.5 * i, 3.0) for i in range(41)]  # x from -150 to 150 in 200 s


def standing() -> list[tuple[float, float, float]]:
    """Chief C002: stands on the north half of the north-south street for exactly 600 s, drifting a few metres."""
    rng = np.random.default_rng(3)
    return [(5.0 * i, 4 + rng.normal(0, 2.5), 100 + rng.normal(0, 2.5)) for i in range(121)]


def write_gpxpy(path: Path, name: str, points: list[tuple[float, float, float]]) -> None:
    """A GPX file written by gpxpy (a real GPX tool)."""
    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name=name)
    segment = gpxpy.gpx.GPXTrackSegment()
    for t, x, y in points:
        lon, lat = lonlat(x, y)
        segment.points.append(gpxpy.gpx.GPXTrackPoint(lat, lon, elevation=100, time=T0 + dt.timedelta(seconds=t)))
    track.segments.append(segment)
    gpx.tracks.append(track)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(gpx.to_xml(), encoding="utf-8")


def write_by_hand(path: Path, points: list[tuple[float | None, str, str]]) -> None:
    """A GPX 1.0 file written by hand, track without a name: (seconds, lat text, lon text)."""
    rows = []
    for t, lat, lon in points:
        stamp = "not a time" if t is None else (T0 + dt.timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f'  <trkpt lat="{lat}" lon="{lon}"><time>{stamp}</time></trkpt>')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<?xml version="1.0"?>\n<gpx version="1.0" creator="hand" xmlns="http://www.topografix.com/GPX/1/0">\n'
        "<trk><trkseg>\n" + "\n".join(rows) + "\n</trkseg></trk>\n</gpx>\n",
        encoding="utf-8",
    )


def hand_points() -> list[tuple[float | None, str, str]]:
    """C002's standing track plus: a duplicate, a multipath jump, a bad time, a missing latitude."""
    points = [(t, f"{lonlat(x, y)[1]:.8f}", f"{lonlat(x, y)[0]:.8f}") for t, x, y in standing()]
    jump_lon, jump_lat = lonlat(1500, 900)
    points.insert(60, (297.5, f"{jump_lat:.8f}", f"{jump_lon:.8f}"))  # ~1.7 km away for one fix
    points.insert(30, points[30])  # exact duplicate
    points.append((None, points[5][1], points[5][2]))
    points.append((700.0, "", points[5][2]))
    return points


def patrol_folder(root: Path) -> Path:
    write_gpxpy(root / "patrol" / "C001" / "2025-03-03.gpx", "C001", east_walk())
    write_by_hand(root / "patrol" / "C002" / "2025-03-03.gpx", hand_points())
    return root


def table(engine: Engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


FIXES = "SELECT subject_id, ts, ST_AsText(geom), trip_id, segment_id FROM gps_fixes ORDER BY subject_id, ts"
VISITS = (
    "SELECT subject_id, segment_id, trip_id, entered_at, left_at, dwell_s, n_fixes FROM segment_visits "
    "ORDER BY subject_id, entered_at"
)


def test_patrol_tracks_are_cleaned_matched_and_counted(schema_engine: Engine, tmp_path: Path) -> None:
    add_streets(schema_engine)
    report = load(schema_engine, patrol_folder(tmp_path / "gps"))
    assert report.status == "succeeded"
    assert report.read == 41 + 121 + 4
    assert report.read == report.loaded + report.rejected
    reasons = table(schema_engine, "SELECT source_file, row_number, reason, raw FROM etl_rejects ORDER BY row_number")
    assert len(reasons) == report.rejected == 4
    text_reasons = sorted(r[2].split(":")[0] for r in reasons)
    assert text_reasons == [
        "duplicate fix",
        "impossible jump",
        "track point without a valid <time> ('not a time')",
        "track point without a valid lat/lon",
    ]
    assert all(r[0].endswith("C002/2025-03-03.gpx") and r[1] > 2 for r in reasons)
    assert any(r[3].get("time") == "not a time" for r in reasons)

    stored = table(schema_engine, "SELECT subject_id, count(*) FROM gps_fixes GROUP BY 1 ORDER BY 1")
    # C001 walks: every fix kept; C002 stood still: its drift collapsed into two fixes
    assert stored == [("C001", 41), ("C002", 2)]
    assert report.stats["collapsed"] == 121 - 2 and report.stats["stops"] == 1
    assert report.loaded == 41 + 2 + report.stats["collapsed"]

    visits = table(schema_engine, VISITS)
    by_subject = {}
    for subject, segment, _trip, entered, _left, dwell, n in visits:
        by_subject.setdefault(subject, []).append((segment, (entered - T0).total_seconds(), dwell, n))
    # the stop on segment 4 gives exactly the 600 s the chief stood there
    assert by_subject["C002"] == [(4, 0.0, 600.0, 2)]
    # walking east: the fix 1.5 m from the north-south street is matched to the street walked along
    assert [v[0] for v in by_subject["C001"]] == [1, 2]
    assert by_subject["C001"][0] == (1, 0.0, 95.0, 20)  # x = -150 … -7.5
    assert by_subject["C001"][1] == (2, 100.0, 100.0, 21)  # x = 0 … 150
    trips = table(schema_engine, "SELECT DISTINCT subject_id, trip_id FROM gps_fixes ORDER BY 1")
    assert trips == [("C001", int(T0.timestamp())), ("C002", int(T0.timestamp()))]
    run = table(schema_engine, f"SELECT rows_read, rows_loaded, rows_rejected FROM etl_runs WHERE id = {report.run_id}")
    assert run == [(report.read, report.loaded, report.rejected)]


def test_loading_the_same_files_again_changes_nothing(schema_engine: Engine, tmp_path: Path) -> None:
    add_streets(schema_engine)
    folder = patrol_folder(tmp_path / "gps")
    load(schema_engine, folder)
    fixes, visits = table(schema_engine, FIXES), table(schema_engine, VISITS)
    again = load(schema_engine, folder)
    assert again.status == "skipped"
    forced = load(schema_engine, folder, force=True)
    assert forced.status == "succeeded" and forced.read == forced.loaded + forced.rejected
    assert forced.stats["fixes_stored"] == 0
    assert table(schema_engine, FIXES) == fixes and table(schema_engine, VISITS) == visits
    reasons = table(schema_engine, f"SELECT reason FROM etl_rejects WHERE run_id = {forced.run_id}")
    assert sum(r[0].startswith("already loaded") for r in reasons) == forced.rejected - 4


def test_an_overlapping_file_adds_only_new_fixes_and_visits_are_derived_again(
    schema_engine: Engine, tmp_path: Path
) -> None:
    add_streets(schema_engine)
    first = tmp_path / "a" / "C001" / "day.gpx"
    write_gpxpy(first, "C001", east_walk()[:25])  # x = -150 … 30
    load(schema_engine, first)
    assert [(v[1], v[6]) for v in table(schema_engine, VISITS)] == [(1, 20), (2, 5)]
    later = tmp_path / "b" / "C001" / "day.gpx"
    write_gpxpy(later, "C001", east_walk()[15:])  # x = -37.5 … 150: 10 fixes overlap
    report = load(schema_engine, later)
    assert report.rejected == 10 and report.loaded == 16
    assert table(schema_engine, "SELECT count(*), count(DISTINCT ts) FROM gps_fixes") == [(41, 41)]
    visits = table(schema_engine, VISITS)
    assert [(v[1], v[5], v[6]) for v in visits] == [(1, 95.0, 20), (2, 100.0, 21)]
    assert len({v[2] for v in visits}) == 1  # still one trip


def test_fixes_are_kept_without_streets_and_matched_by_rematch(
    schema_url, schema_engine: Engine, tmp_path: Path
) -> None:
    report = load(schema_engine, patrol_folder(tmp_path / "gps"))
    assert any("no street network" in w for w in report.warnings)
    assert table(schema_engine, "SELECT count(*), count(segment_id) FROM gps_fixes") == [(43, 0)]
    assert table(schema_engine, "SELECT count(*) FROM segment_visits") == [(0,)]
    add_streets(schema_engine)
    result = rematch(schema_engine)
    assert result.status == "succeeded" and result.read == result.loaded == 43
    assert table(schema_engine, "SELECT count(*), count(segment_id) FROM gps_fixes") == [(43, 43)]
    assert [(v[0], v[1], v[5]) for v in table(schema_engine, VISITS)] == [
        ("C001", 1, 95.0),
        ("C001", 2, 100.0),
        ("C002", 4, 600.0),
    ]
    # the command line does the same, in one transaction, and a second rematch changes nothing
    visits = table(schema_engine, VISITS)
    env = {**os.environ, "DATABASE_URL": schema_url.render_as_string(hide_password=False)}
    done = subprocess.run(
        [sys.executable, "-m", "etl", "rematch"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "rematch" in done.stdout
    assert [v[1:] for v in table(schema_engine, VISITS)] == [v[1:] for v in visits]


def test_loading_streets_matches_the_fixes_loaded_before(schema_engine: Engine, tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString

    from etl.jobs import streets

    load(schema_engine, patrol_folder(tmp_path / "gps"))
    assert table(schema_engine, "SELECT count(segment_id) FROM gps_fixes") == [(0,)]
    lines = [LineString([lonlat(x, y) for x, y in line]) for line in SEGMENTS.values()]
    frame = gpd.GeoDataFrame(
        {"segment_id": [f"S{n}" for n in SEGMENTS], "name": ["东西路", "东西路", "南北路", "南北路"]},
        geometry=lines,
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "streets.geojson", driver="GeoJSON")
    report = streets.load(schema_engine, tmp_path / "streets.geojson")
    assert report.stats["gps_fixes_rematched"] == 43
    visits = table(
        schema_engine,
        "SELECT v.subject_id, s.segment_key, v.dwell_s FROM segment_visits v "
        "JOIN street_segments s ON s.id = v.segment_id ORDER BY v.subject_id, v.entered_at",
    )
    assert visits == [("C001", "S1", 95.0), ("C001", "S2", 100.0), ("C002", "S4", 600.0)]


def test_vehicle_csv_in_gcj02_and_local_time(schema_engine: Engine, tmp_path: Path) -> None:
    add_streets(schema_engine)
    folder = tmp_path / "sanitation"
    folder.mkdir()
    (folder / "source.toml").write_text('crs = "gcj02"\ntimezone = "Asia/Shanghai"\n', encoding="utf-8")
    truth = [lonlat(-150 + 25 * i, -2.0) for i in range(13)]
    rows = ["车牌号,定位时间,经度,纬度,速度(km/h),方向"]
    for i, (lon, lat) in enumerate(truth):
        glon, glat = wgs84_to_gcj02(lon, lat)
        rows.append(f"浙G12345,2025-03-03 08:{i:02d}:00,{float(glon):.8f},{float(glat):.8f},18,90")
    rows.append("浙G12345,2025-03-03 25:61:00,119.8,28.9,18,90")  # impossible time
    rows.append("浙G12345,2025-03-03 09:00:00,0.0,0.0,0,0")  # a receiver's null island
    (folder / "2025-03.csv").write_bytes("\n".join(rows).encode("gbk"))
    report = load(schema_engine, folder)
    assert (report.read, report.loaded, report.rejected) == (15, 13, 2)
    stored = table(
        schema_engine,
        "SELECT ts, ST_X(geom), ST_Y(geom), speed_mps, heading, source_crs, segment_id FROM gps_fixes ORDER BY ts",
    )
    assert stored[0][0] == dt.datetime(2025, 3, 3, 0, 0, tzinfo=dt.UTC)  # 08:00 Beijing time
    metric = get_region().metric_crs
    for (_, lon, lat, speed, heading, crs, segment), (tlon, tlat) in zip(stored, truth, strict=True):
        x, y = from_wgs84([lon, tlon], [lat, tlat], metric)
        assert float(np.hypot(x[0] - x[1], y[0] - y[1])) < 1.0
        assert speed == pytest.approx(5.0) and heading == 90 and crs == "gcj02"
        assert segment in (1, 2)
    rejected = table(
        schema_engine, f"SELECT reason, raw FROM etl_rejects WHERE run_id = {report.run_id} ORDER BY row_number"
    )
    assert rejected[0][0] == "row without a valid time" and rejected[0][1]["定位时间"] == "2025-03-03 25:61:00"
    assert rejected[1][0].startswith("fix outside the region (") and rejected[1][1]["经度"] == "0.0"


def test_a_zip_of_the_folder_loads_the_same_and_names_members_in_rejects(schema_engine: Engine, tmp_path: Path) -> None:
    folder = patrol_folder(tmp_path / "gps")
    archive = tmp_path / "gps.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in folder.rglob("*.gpx"):
            out.write(file, file.relative_to(folder))
    report = load(schema_engine, archive)
    assert (report.read, report.rejected) == (166, 4)
    assert table(schema_engine, "SELECT count(*) FROM gps_fixes") == [(43,)]
    names = {r[0] for r in table(schema_engine, "SELECT source_file FROM etl_rejects")}
    assert names == {f"{archive}!patrol/C002/2025-03-03.gpx"}


def test_an_unreadable_file_fails_the_job_and_names_it(schema_engine: Engine, tmp_path: Path) -> None:
    folder = patrol_folder(tmp_path / "gps")
    broken = folder / "patrol" / "C003" / "2025-03-03.gpx"
    broken.parent.mkdir(parents=True)
    broken.write_text('<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg><trkpt lat="28.9"', encoding="utf-8")
    with pytest.raises(InputError, match=r"C003/2025-03-03\.gpx"):
        load(schema_engine, folder)
    assert table(schema_engine, "SELECT count(*) FROM gps_fixes") == [(0,)]
    assert table(schema_engine, "SELECT status FROM etl_runs") == [("failed",)]
