"""Geocoder benchmark: addresses/s on one core, accuracy against the demo truth, and a year of cases end to end.

Usage::

    .venv/bin/python bench/bench_geocode.py                      # synthetic gazetteer and addresses (no database)
    .venv/bin/python bench/bench_geocode.py --demo OUT_DIR       # accuracy on the demo (loaded in the database)
    .venv/bin/python bench/bench_geocode.py --demo OUT_DIR --load-cases   # + OUT_DIR/raw/cases end to end

``--demo`` loads what the gazetteer needs (region, jurisdictions, streets, places) from
``OUT_DIR/raw`` through the real ETL jobs (nothing when already loaded) and reads
``OUT_DIR/truth/cases.csv`` (file, row, true_lon, true_lat, township_code, address_style, dirty …)
next to the raw case files the addresses come from. Figures are medians of several runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
from shapely.geometry import LineString, Point

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.admin_names import display_name
from geo.geocode import GazetteerIndex, Geocoder, load_geocoder
from geo.geocode.gazetteer import Entry
from geo.geocode.match import distance_m
from geo.region import Region, get_region

ROAD_WORDS = [
    "解放",
    "人民",
    "胜利",
    "建设",
    "文化",
    "和平",
    "新华",
    "中山",
    "永安",
    "温泉",
    "育才",
    "振兴",
    "光明",
    "朝阳",
    "幸福",
    "兴业",
    "环城",
    "滨江",
    "春晖",
    "长安",
]
PLACE_WORDS = [
    "阳光",
    "金色",
    "东方",
    "锦绣",
    "翠苑",
    "香樟",
    "紫荆",
    "丽景",
    "金湖",
    "银杏",
    "和园",
    "江南",
    "碧水",
    "名苑",
    "凤凰",
]
PLACE_SUFFIX = ["小区", "花园", "家园", "公寓", "农贸市场", "中心小学", "卫生院"]
NEIGHBOURS = ["永康市", "金华市婺城区", "金华市金东区", "缙云县", "义乌市", "东阳市", "磐安县", "遂昌县"]


def _median(values: list[float]) -> float:
    return statistics.median(values)


# -- a synthetic county ---------------------------------------------------------------------
def synthetic_index(region: Region, rng: random.Random) -> tuple[GazetteerIndex, dict]:
    """A gazetteer with the real townships and villages and made-up roads (with door ranges) and places."""
    towns = pd.read_csv(region.townships_file, dtype=str)
    villages = pd.read_csv(region.villages_file, dtype=str)
    entries: list[Entry] = [Entry("county", region.name, region.name, region.code, geom=region.outline)]
    world: dict = {"roads": [], "places": [], "villages": [], "townships": []}
    for i, town in enumerate(towns.itertuples()):
        cx, cy = 119.55 + (i % 6) * 0.07, 28.62 + (i // 6) * 0.1
        entries.append(
            Entry("township", display_name(town.name, "township"), town.name, town.code, town.code, geom=Point(cx, cy))
        )
        world["townships"].append((town.code, town.name, (cx, cy)))
        for v in villages[villages.streetCode == town.code].itertuples():
            name = display_name(v.name, "village")
            point = Point(cx + rng.uniform(-0.03, 0.03), cy + rng.uniform(-0.03, 0.03))
            entries.append(Entry("village", name, name, v.code, town.code, v.code, geom=point))
            world["villages"].append((v.code, town.code, town.name, name, (point.x, point.y)))
        for r in range(40):
            name = (
                f"{rng.choice(ROAD_WORDS)}{rng.choice(['', '东', '西', '南', '北'])}{rng.choice(['路', '街', '大道'])}"
            )
            if any(x[1] == name and x[2] == town.code for x in world["roads"]):
                continue
            horizontal = r % 2 == 0
            base = (r // 2) * 0.002
            segments = []
            for k in range(4):
                a = (
                    (cx - 0.02 + k * 0.003, cy - 0.02 + base)
                    if horizontal
                    else (cx - 0.02 + base, cy - 0.02 + k * 0.003)
                )
                b = (a[0] + 0.003, a[1]) if horizontal else (a[0], a[1] + 0.003)
                ranges = (1 + 40 * k, 39 + 40 * k, 2 + 40 * k, 40 + 40 * k)
                key = f"{town.code}-{r}-{k}"
                entries.append(
                    Entry(
                        "street",
                        name,
                        name,
                        key,
                        town.code,
                        geom=LineString([a, b]),
                        attrs={"segment_id": len(entries), "left": list(ranges[:2]), "right": list(ranges[2:])},
                    )
                )
                segments.append((a, b, ranges))
            world["roads"].append((town.code, name, town.code, town.name, segments))
        for p in range(30):
            name = f"{rng.choice(PLACE_WORDS)}{rng.choice(PLACE_SUFFIX)}"
            if any(x[1] == name and x[2] == town.code for x in world["places"]):
                continue
            point = (cx + rng.uniform(-0.02, 0.02), cy + rng.uniform(-0.02, 0.02))
            entries.append(Entry("place", name, name, f"{town.code}-p{p}", town.code, geom=Point(point)))
            world["places"].append((f"{town.code}-p{p}", name, town.code, town.name, point))
    return GazetteerIndex.from_entries(entries, region), world


def synthetic_addresses(world: dict, rng: random.Random, n: int) -> list[tuple[str, str | None, tuple | None, str]]:
    """(address, true township, true point or None, kind) in the mix a year of cases has."""
    out = []
    prefixes = ["", "", "", "武义县", "浙江省金华市武义县", "金华市武义县"]
    for _ in range(n):
        roll = rng.random()
        if roll < 0.45:
            code, road, _, town, segments = rng.choice(world["roads"])
            a, b, ranges = rng.choice(segments)
            number = rng.randrange(ranges[0], ranges[1] + 1, 2)
            t = (number - ranges[0]) / (ranges[1] - ranges[0])
            truth = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
            text = f"{rng.choice(prefixes)}{display_name(town, 'township')}{road}{number}号"
            if rng.random() < 0.1:
                text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
            out.append((text, code, truth, "门牌"))
        elif roll < 0.55:
            code, road, _, town, _ = rng.choice(world["roads"])
            out.append((f"{town}{road}", code, None, "道路"))
        elif roll < 0.75:
            _, name, code, town, point = rng.choice(world["places"])
            out.append(
                (f"{town}{name}{rng.choice(['', '附近', '对面', '门口', '3幢2单元301室'])}", code, point, "地点")
            )
        elif roll < 0.88:
            _, code, town, name, point = rng.choice(world["villages"])
            out.append((f"{town}{name}", code, point, "村社区"))
        elif roll < 0.95:
            code, _, _, town, _ = rng.choice(world["roads"])
            out.append(
                (f"{rng.choice(NEIGHBOURS)}{town}{rng.choice(ROAD_WORDS)}路{rng.randint(1, 200)}号", None, None, "县外")
            )
        else:
            out.append((rng.choice(["不详", "???", "", "同上", "见附件"]), None, None, "无意义"))
    return out


def bench_speed(index: GazetteerIndex, addresses: list[str], runs: int) -> tuple[float, float]:
    """Median addresses/s without a cache (every address parsed and matched), and with the cache."""
    uncached, cached = [], []
    for _ in range(runs):
        geocoder = Geocoder(index, cache_size=0)
        start = time.perf_counter()
        for address in addresses:
            geocoder.geocode(address)
        uncached.append(len(addresses) / (time.perf_counter() - start))
        geocoder = Geocoder(index)
        start = time.perf_counter()
        for address in addresses * 2:
            geocoder.geocode(address)
        cached.append(2 * len(addresses) / (time.perf_counter() - start))
    return _median(uncached), _median(cached)


def synthetic(args: argparse.Namespace) -> None:
    region = get_region()
    rng = random.Random(7)
    began = time.perf_counter()
    index, world = synthetic_index(region, rng)
    print(
        f"synthetic gazetteer: {len(index.roads)} roads, {sum(len(v) for v in index.roads.values())} segments, "
        f"{len(index.places)} place names, {len(index.villages)} villages; index built in "
        f"{time.perf_counter() - began:.2f} s"
    )
    sample = synthetic_addresses(world, rng, args.n)
    speed, cached = bench_speed(index, [s[0] for s in sample], args.runs)
    print(f"speed (one core, median of {args.runs}): {speed:,.0f} addresses/s uncached, {cached:,.0f}/s cached")
    geocoder = Geocoder(index)
    results = [geocoder.geocode(s[0]) for s in sample]
    report_accuracy(sample, results)
    outside_villages = synthetic_outside_villages(geocoder)
    leaked = sum(r.point is not None for r in outside_villages)
    print(
        f"outside-county addresses naming a neighbour's township and a Wuyi village name, matched inside: "
        f"{leaked}/{len(outside_villages)}"
    )


def report_accuracy(sample: list[tuple], results: list) -> None:
    """Township correct, door points within 50 m, and outside addresses matched inside."""
    named = [(s, r) for s, r in zip(sample, results, strict=True) if s[1]]
    town_ok = sum(r.township_code == s[1] for s, r in named)
    doors = [(s, r) for s, r in named if s[3] == "门牌" and s[2] is not None]
    within = sum(r.point is not None and distance_m(r.point, s[2]) <= 50 for s, r in doors)
    outside = [(s, r) for s, r in zip(sample, results, strict=True) if s[3] == "县外"]
    leaked = sum(r.point is not None for _, r in outside)
    print(f"township correct: {town_ok}/{len(named)} = {town_ok / max(len(named), 1):.2%}")
    print(f"door numbers within 50 m: {within}/{len(doors)} = {within / max(len(doors), 1):.2%}")
    print(f"outside-county addresses matched inside: {leaked}/{len(outside)}")
    levels = pd.Series([r.level for r in results]).value_counts()
    print("levels: " + ", ".join(f"{k} {v}" for k, v in levels.items()))


def report_against_address_location(engine, truth: pd.DataFrame, sample: list[tuple], results: list) -> None:
    """The same figures measured against where the written address is, not where the incident happened.

    The demo's truth point of a case at a place is the place point plus ~35 m of noise (the incident
    happened near the market); the address written (the market's name or door number) stands for the
    place itself, whose point and township are what a geocoder can know. Cases on streets keep their
    truth point. Bare road names that run through several townships name no single township and are
    counted apart.
    """
    from sqlalchemy import text

    with engine.connect() as conn:
        places = {
            key: ((lon, lat), town)
            for key, lon, lat, town in conn.execute(
                text("SELECT place_key, ST_X(geom), ST_Y(geom), township_code FROM places")
            )
        }
    town_ok = town_n = door_ok = door_n = ambiguous = 0
    for (_address, town, point, kind), result, place_id in zip(sample, results, truth["place_id"], strict=True):
        if not town:
            continue
        if place_id in places:
            point, town = places[place_id][0], places[place_id][1] or town
        if result.reason and "跨多个乡镇" in result.reason:
            ambiguous += 1
        else:
            town_n += 1
            town_ok += result.township_code == town
        if kind == "门牌":
            door_n += 1
            door_ok += result.point is not None and distance_m(result.point, point) <= 50
    print("against the location of the written address (place point for cases at a place):")
    print(
        f"  township correct: {town_ok}/{town_n} = {town_ok / max(town_n, 1):.2%} "
        f"(+ {ambiguous} bare road names through several townships, no single township named)"
    )
    print(f"  door numbers within 50 m: {door_ok}/{door_n} = {door_ok / max(door_n, 1):.2%}")


# -- the demo -------------------------------------------------------------------------------
def demo(args: argparse.Namespace) -> None:
    from etl.mapping import load_mapping
    from etl.readers.tabular import read_table
    from geo.db import get_engine

    out = Path(args.demo)
    truth = pd.read_csv(out / "truth" / "cases.csv", dtype=str, keep_default_na=False)
    mapping = load_mapping("cases")
    addresses: dict[tuple[str, int], str] = {}
    for file in sorted((out / "raw" / "cases").iterdir()):
        if file.suffix.lower() not in {".csv", ".xlsx"}:
            continue
        frame = mapping.apply(read_table(file).frame, str(file))
        for position, address in enumerate(frame["address"].tolist(), start=1):
            addresses[(file.name, position)] = address
    engine = get_engine()
    region = get_region()
    from etl.demo import load_demo

    # what the gazetteer is built from, through the real jobs (a no-op when already loaded)
    load_demo(engine, out, jobs=("jurisdictions", "streets", "places"))
    began = time.perf_counter()
    with engine.begin() as conn:
        geocoder = load_geocoder(conn, region)
    print(f"gazetteer refreshed and indexed in {time.perf_counter() - began:.2f} s")
    texts = [addresses[(f, int(r))] for f, r in zip(truth["file"], truth["row"], strict=True)]
    speed, cached = bench_speed(geocoder.index, texts, args.runs)
    print(
        f"speed on {len(texts):,} demo addresses (one core, median of {args.runs}): {speed:,.0f}/s uncached, "
        f"{cached:,.0f}/s cached"
    )
    results = [geocoder.geocode(t) for t in texts]
    unmatchable = truth["dirty"].str.contains("unmatched_address").to_numpy()
    door_styles = {"门牌", "门牌无号字", "门牌附近"}
    sample = []
    for i, row in enumerate(truth.itertuples()):
        point = (float(row.true_lon), float(row.true_lat))
        kind = "门牌" if row.address_style in door_styles else row.address_style
        sample.append((texts[i], None if unmatchable[i] else row.township_code, point, kind))
    report_accuracy(sample, results)
    planted = [r for r, bad in zip(results, unmatchable, strict=True) if bad]
    print(f"planted unmatchable addresses left 未匹配: {sum(r.level == '未匹配' for r in planted)}/{len(planted)}")
    street_kinds = {"urban", "town"}
    for title, keep in (("on streets", True), ("of places (truth = place point + 35 m noise)", False)):
        pairs = [
            (s, r)
            for s, r, kind in zip(sample, results, truth["location_kind"], strict=True)
            if s[1] and s[3] == "门牌" and (kind in street_kinds) == keep
        ]
        near = sum(r.point is not None and distance_m(r.point, s[2]) <= 50 for s, r in pairs)
        print(f"door numbers {title} within 50 m: {near}/{len(pairs)} = {near / max(len(pairs), 1):.2%}")
    wrong = [(s, r) for s, r in zip(sample, results, strict=True) if s[1] and r.township_code != s[1]]
    far = [
        (s, r)
        for s, r in zip(sample, results, strict=True)
        if s[1] and s[3] == "门牌" and (r.point is None or distance_m(r.point, s[2]) > 50)
    ]
    close = sum(r.point is not None and distance_m(r.point, s[2]) <= 60 for s, r in wrong)
    spanning = sum(bool(r.reason and "跨多个乡镇" in r.reason) for _, r in wrong)
    print(
        f"township wrong: {len(wrong)}; of them {close} with the point within 60 m of the truth (a township "
        f"boundary between them), {spanning} roads named without a township that run through several"
    )
    report_against_address_location(engine, truth, sample, results)
    for title, rows in (("township wrong", wrong), ("door > 50 m", far)):
        print(f"examples, {title}:")
        for s, r in rows[: args.examples]:
            gap = "" if r.point is None else f"{distance_m(r.point, s[2]):.0f} m"
            print(f"  {s[0]!r}: {r.level} {r.township} {gap} {r.reason or ''}")
    by_style = pd.DataFrame({"style": [s[3] for s in sample], "level": [r.level for r in results]})
    print(pd.crosstab(by_style["style"], by_style["level"]).to_string())
    outside_sample = synthetic_outside(geocoder)
    leaked = sum(r.point is not None for r in outside_sample)
    print(f"outside-county addresses built from Wuyi road names, matched inside: {leaked}/{len(outside_sample)}")
    outside_villages = synthetic_outside_villages(geocoder)
    leaked = sum(r.point is not None for r in outside_villages)
    print(
        f"outside-county addresses naming a neighbour's township and a Wuyi village name, matched inside: "
        f"{leaked}/{len(outside_villages)}"
    )
    if args.load_cases:
        from etl.jobs import cases

        seconds = []
        for _ in range(args.runs_load):
            report = cases.load(engine, out / "raw" / "cases", force=True)
            seconds.append(report.seconds)
        runs = [round(s, 2) for s in seconds]
        print(
            f"cases end to end: {report.read:,} rows read, {report.loaded:,} loaded, {report.rejected:,} rejected; "
            f"median {_median(seconds):.2f} s of {args.runs_load} runs ({runs}); steps of the last run: "
            f"{report.stats['seconds']}"
        )
        shares = report.stats["geocode_shares"]
        print("geocode shares: " + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))


def synthetic_outside(geocoder: Geocoder) -> list:
    """Addresses in neighbouring counties written with this county's own road names: none may match."""
    rng = random.Random(11)
    roads = list(geocoder.index.roads)
    return [
        geocoder.geocode(f"{rng.choice(NEIGHBOURS)}{rng.choice(roads)}{rng.randint(1, 300)}号") for _ in range(1000)
    ]


# Real townships of neighbouring counties (with the short county name people write before them).
NEIGHBOUR_TOWNSHIPS = [
    ("东阳", "南马镇"),
    ("东阳", "横店镇"),
    ("永康", "西城街道"),
    ("永康", "古山镇"),
    ("永康", "芝英镇"),
    ("义乌", "佛堂镇"),
    ("义乌", "稠城街道"),
    ("缙云", "壶镇镇"),
    ("磐安", "尖山镇"),
    ("磐安", "安文街道"),
]


def synthetic_outside_villages(geocoder: Geocoder) -> list:
    """东阳南马镇西溪村-style addresses: a neighbour's township (with or without its county) and a Wuyi village name."""
    rng = random.Random(13)
    villages = sorted({area.name for area in geocoder.index.villages.values()})
    out = []
    for _ in range(1000):
        county, township = rng.choice(NEIGHBOUR_TOWNSHIPS)
        prefix = rng.choice([county, f"{county}市" if county in {"东阳", "永康", "义乌"} else f"{county}县", ""])
        out.append(geocoder.geocode(f"{prefix}{township}{rng.choice(villages)}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", help="demo OUT_DIR (raw/ and truth/); its streets and places are loaded if needed")
    parser.add_argument("--load-cases", action="store_true", help="also time loading OUT_DIR/raw/cases")
    parser.add_argument("-n", type=int, default=20_000, help="synthetic addresses")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--runs-load", type=int, default=3)
    parser.add_argument("--examples", type=int, default=10)
    args = parser.parse_args()
    if args.demo:
        demo(args)
    else:
        synthetic(args)


if __name__ == "__main__":
    main()
