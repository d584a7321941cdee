"""Small, known data for the dashboard tests and the dashboard benchmark, written directly through the models.

Thirteen squads over approximate township polygons, a street grid in two squads, two street
chiefs with patrol visits, and a few hundred cases this year and last year with planted
personal data (which must never show unmasked, and never on the wall).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import LineString, MultiPolygon, Point
from sqlalchemy import Engine, insert, select, update

from etl.jobs.region import load_region
from geo.case_segments import assign_case_segments
from geo.models import (
    AdminArea,
    Case,
    ChiefSegment,
    EtlRun,
    Jurisdiction,
    SegmentVisit,
    Squad,
    StreetChief,
    StreetSegment,
)
from geo.region import Region
from geo.spatial import length_m
from geo.time_limits import due_at

PARTY_NAME = "欧阳测试"
PARTY_PHONE = "13912345678"
COMPLAINANT_NAME = "司马投诉"
COMPLAINANT_PHONE = "13700001111"
PROCEDURES = ("一般程序", "简易程序", "重大案件", "投诉举报")
CATEGORIES = ("占道经营", "违法建设", "工地扬尘", "渣土运输", "户外广告")
STREET_NAMES = ("解放街", "熟溪路", "壶山路", "温泉路", "武阳路", "永康街")


@dataclass
class Seeded:
    """What the seed wrote, for assertions: squad codes and names, chief codes, case ids by segment."""

    squads: dict[str, str]
    chiefs: dict[str, str]
    segments: dict[str, int]
    hot_segment: int
    cold_segment: int
    reference: dt.datetime


def _township_polygons(engine: Engine, region: Region) -> dict[str, MultiPolygon]:
    with engine.connect() as conn:
        seats = conn.execute(
            select(AdminArea.code, AdminArea.seat).where(AdminArea.level == "township", AdminArea.seat.is_not(None))
        ).all()
    points = {code: to_shape(seat) for code, seat in seats}
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(points.values())), extend_to=region.outline.envelope)
    polygons: dict[str, MultiPolygon] = {}
    for code, point in points.items():
        cell = next(c for c in cells.geoms if c.contains(point))
        clipped = cell.intersection(region.outline)
        polygons[code] = clipped if isinstance(clipped, MultiPolygon) else MultiPolygon([clipped])
    with engine.begin() as conn:
        for code, polygon in polygons.items():
            conn.execute(
                update(AdminArea)
                .where(AdminArea.code == code)
                .values(geom=from_shape(polygon, srid=4326), approximate=True)
            )
    return polygons


def seed(engine: Engine, region: Region, now: dt.datetime | None = None) -> Seeded:
    """Write the test data into the (empty, migrated) database of ``engine``."""
    rng = random.Random(7)
    now = now or dt.datetime.now(region.tz).replace(microsecond=0)
    load_region(engine, region)
    towns = _township_polygons(engine, region)
    codes = sorted(towns)
    squads: dict[str, list[str]] = {f"ZD{i + 1:02d}": [codes[i]] for i in range(13)}
    for extra, code in enumerate(codes[13:]):
        squads[f"ZD{extra + 2:02d}"].append(code)
    with engine.connect() as conn:
        names = dict(conn.execute(select(AdminArea.code, AdminArea.name).where(AdminArea.level == "township")).all())
    squad_names = {
        sq: names[tc[0]].removesuffix("街道").removesuffix("镇").removesuffix("乡")[:2] + "中队"
        for sq, tc in squads.items()
    }
    squad_names["ZD01"] = "白洋中队"
    shapes = {sq: shapely.union_all([towns[c] for c in tc]) for sq, tc in squads.items()}
    shapes = {sq: g if isinstance(g, MultiPolygon) else MultiPolygon([g]) for sq, g in shapes.items()}

    with engine.begin() as conn:
        run_id = conn.execute(
            insert(EtlRun)
            .values(job="seed", source_path="tests", status="succeeded", finished_at=now, rows_read=1, rows_loaded=1)
            .returning(EtlRun.id)
        ).scalar_one()
        for sq, geom in shapes.items():
            station = geom.representative_point()
            conn.execute(
                insert(Squad).values(
                    code=sq,
                    name=squad_names[sq],
                    township_codes=squads[sq],
                    officers=10,
                    station=from_shape(station, srid=4326),
                    station_address=f"{squad_names[sq]}驻地",
                    phone="0579-8761234",
                )
            )
            conn.execute(
                insert(Jurisdiction).values(
                    version=1, squad_code=sq, name=squad_names[sq], geom=from_shape(geom, srid=4326), is_current=True
                )
            )
        # A 3×2 street grid around the ZD01 and ZD02 stations.
        segments: dict[str, int] = {}
        lines: dict[int, LineString] = {}
        for sq in ("ZD01", "ZD02"):
            origin = shapes[sq].representative_point()
            for i, street in enumerate(STREET_NAMES):
                horizontal = i < 3
                offset = (i % 3) * 0.004
                if horizontal:
                    line = LineString([(origin.x - 0.006, origin.y + offset), (origin.x + 0.006, origin.y + offset)])
                else:
                    line = LineString(
                        [(origin.x - 0.004 + offset, origin.y - 0.002), (origin.x - 0.004 + offset, origin.y + 0.01)]
                    )
                key = f"{sq}-{i}"
                segment_id = conn.execute(
                    insert(StreetSegment)
                    .values(
                        segment_key=key,
                        name=street,
                        road_class="主干路" if i in (0, 3) else "支路",
                        township_code=squads[sq][0],
                        squad_code=sq,
                        length_m=float(length_m(line, region.metric_crs)),
                        geom=from_shape(line, srid=4326),
                        source_crs="EPSG:4326",
                    )
                    .returning(StreetSegment.id)
                ).scalar_one()
                segments[key] = segment_id
                lines[segment_id] = line
        chiefs = {"JL001": "ZD01", "JL002": "ZD02"}
        for code, sq in chiefs.items():
            chief_id = conn.execute(
                insert(StreetChief)
                .values(code=code, name=f"路长{code[-1]}", phone="13600000000", squad_code=sq, role="路长")
                .returning(StreetChief.id)
            ).scalar_one()
            for i in range(6):
                conn.execute(
                    insert(ChiefSegment).values(
                        chief_id=chief_id, segment_id=segments[f"{sq}-{i}"], street_name=STREET_NAMES[i]
                    )
                )
        for i, days_ago in ((0, 1), (1, 5), (2, 20)):
            entered = now - dt.timedelta(days=days_ago, hours=2)
            conn.execute(
                insert(SegmentVisit).values(
                    segment_id=segments[f"ZD01-{i}"],
                    subject_kind="patrol",
                    subject_id="JL001",
                    entered_at=entered,
                    left_at=entered + dt.timedelta(minutes=15),
                    dwell_s=900.0,
                    n_fixes=30,
                )
            )
        # Cases: a hotspot on ZD01's first street, the rest spread over the squads, this year and last.
        hot_segment = segments["ZD01-0"]
        cold_segment = segments["ZD01-5"]
        year_start = now.replace(month=1, day=1, hour=0, minute=0, second=0)
        span = (now - year_start).total_seconds()
        rows = []
        for n in range(420):
            this_year = n < 300
            if n < 120:
                sq, segment_id = "ZD01", hot_segment if n < 100 else cold_segment
                point = lines[segment_id].interpolate(rng.random(), normalized=True)
            else:
                sq = f"ZD{rng.randint(1, 13):02d}"
                segment_id = None
                box = shapes[sq]
                minx, miny, maxx, maxy = box.bounds
                while True:
                    point = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
                    if box.contains(point):
                        break
            received = year_start + dt.timedelta(seconds=rng.random() * span)
            if not this_year:
                received = received.replace(year=received.year - 1)
            procedure = PROCEDURES[n % 4]
            limit = region.time_limit(procedure)
            due = due_at(received, limit, region)
            arrived = received + dt.timedelta(minutes=rng.randint(8, 40) if sq != "ZD03" else rng.randint(60, 180))
            closed = arrived + dt.timedelta(hours=rng.randint(1, 100)) if n % 5 else None
            unmatched = n % 37 == 0
            rows.append(
                dict(
                    case_number=f"WY{received:%Y}{n:05d}",
                    category=CATEGORIES[n % 5],
                    domain="市容环卫",
                    procedure_type=procedure,
                    source="巡查发现",
                    status="已办结" if closed else "办理中",
                    description=f"测试案件{n}",
                    address=f"武义县{STREET_NAMES[n % 6]}{n}号" if not unmatched else f"无法识别的地址{n}",
                    geom=None if unmatched else from_shape(point, srid=4326),
                    geocode_level="未匹配" if unmatched else "门牌",
                    squad_code=sq,
                    reported_squad=squad_names[sq],
                    segment_id=None if unmatched else segment_id,
                    received_at=received,
                    dispatched_at=received + dt.timedelta(minutes=3),
                    arrived_at=arrived,
                    closed_at=closed,
                    due_at=due,
                    time_limit=limit.label(),
                    party_name=PARTY_NAME,
                    party_phone=PARTY_PHONE,
                    complainant_name=COMPLAINANT_NAME if procedure == "投诉举报" else None,
                    complainant_phone=COMPLAINANT_PHONE if procedure == "投诉举报" else None,
                    run_id=run_id,
                )
            )
        conn.execute(insert(Case), rows)
        assign_case_segments(conn, region)  # as the case job does: the segment each case counts on
    return Seeded(
        squads=squad_names,
        chiefs=chiefs,
        segments=segments,
        hot_segment=hot_segment,
        cold_segment=cold_segment,
        reference=now,
    )


def add_volume(
    engine: Engine,
    region: Region,
    *,
    cases_per_year: int = 14000,
    grid: int = 8,
    visits: int = 20000,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Add annual-report-scale data on top of :func:`seed` (for benchmarks): a ``grid``×``grid`` street
    grid per squad, ``cases_per_year`` cases this year and last, patrol visits. Returns the counts."""
    rng = random.Random(11)
    now = now or dt.datetime.now(region.tz).replace(microsecond=0)
    with engine.begin() as conn:
        stations = {code: to_shape(point) for code, point in conn.execute(select(Squad.code, Squad.station)).all()}
        lines: list[tuple[int, str, LineString]] = []
        rows = []
        for sq, origin in stations.items():
            for i in range(2 * grid):
                offset = (i % grid - grid / 2) * 0.003
                if i < grid:
                    line = LineString([(origin.x - 0.015, origin.y + offset), (origin.x + 0.015, origin.y + offset)])
                else:
                    line = LineString([(origin.x + offset, origin.y - 0.015), (origin.x + offset, origin.y + 0.015)])
                rows.append(
                    dict(
                        segment_key=f"V-{sq}-{i}",
                        name=f"{sq}测试路{i}",
                        road_class="次干路" if i % 4 == 0 else "支路",
                        squad_code=sq,
                        length_m=float(length_m(line, region.metric_crs)),
                        geom=from_shape(line, srid=4326),
                        source_crs="EPSG:4326",
                    )
                )
        ids = conn.execute(insert(StreetSegment).returning(StreetSegment.id, StreetSegment.segment_key), rows).all()
        by_key = {key: sid for sid, key in ids}
        for row in rows:
            lines.append((by_key[row["segment_key"]], row["squad_code"], to_shape(row["geom"])))
        hot = rng.sample(lines, k=max(1, len(lines) // 20))
        year_start = now.replace(month=1, day=1, hour=0, minute=0, second=0)
        span = (now - year_start).total_seconds()
        cases = []
        total = int(cases_per_year * span / (365 * 86400)) * 2
        for n in range(total):
            segment_id, sq, line = rng.choice(hot) if rng.random() < 0.3 else rng.choice(lines)
            point = line.interpolate(rng.random(), normalized=True)
            received = year_start + dt.timedelta(seconds=rng.random() * span)
            if n % 2:
                received = received.replace(year=received.year - 1)
            procedure = rng.choices(PROCEDURES, weights=(5300, 8406, 117, 1500))[0]
            limit = region.time_limit(procedure)
            arrived = received + dt.timedelta(minutes=rng.randint(5, 90))
            closed = arrived + dt.timedelta(hours=rng.randint(1, 200)) if rng.random() < 0.9 else None
            cases.append(
                dict(
                    case_number=f"WYV{n:07d}",
                    category=CATEGORIES[n % 5],
                    domain="市容环卫",
                    procedure_type=procedure,
                    status="已办结" if closed else "办理中",
                    description=f"批量案件{n}",
                    address=f"武义县{sq}测试路{n % 16}号",
                    geom=from_shape(point, srid=4326),
                    geocode_level="门牌",
                    squad_code=sq,
                    segment_id=segment_id,
                    received_at=received,
                    dispatched_at=received + dt.timedelta(minutes=3),
                    arrived_at=arrived,
                    closed_at=closed,
                    due_at=due_at(received, limit, region),
                    party_name=PARTY_NAME,
                    party_phone=PARTY_PHONE,
                )
            )
        for start in range(0, len(cases), 5000):
            conn.execute(insert(Case), cases[start : start + 5000])
        assign_case_segments(conn, region)
        visit_rows = []
        for _ in range(visits):
            segment_id, sq, _line = rng.choice(lines)
            entered = now - dt.timedelta(minutes=rng.randint(10, 60 * 24 * 120))
            visit_rows.append(
                dict(
                    segment_id=segment_id,
                    subject_kind="patrol",
                    subject_id=f"{sq}-patrol",
                    entered_at=entered,
                    left_at=entered + dt.timedelta(minutes=5),
                    dwell_s=300.0,
                    n_fixes=10,
                )
            )
        conn.execute(insert(SegmentVisit), visit_rows)
    return {"segments": len(lines), "cases": len(cases), "visits": len(visit_rows)}
