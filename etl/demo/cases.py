"""Synthetic enforcement cases: the county's volumes and mix, hotspots, rhythms, response times, dirty rows.

Volumes, category mix, sources, categories and case-number formats come from the region's demo
config (``etl/demo/config.py``); hour and season profiles and location kinds from
``etl/demo/case_model.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.demo import addresses, people
from etl.demo.case_model import HOUR_PROFILES, PLACE_LOCATIONS, season_weight
from etl.demo.geography import Geography
from etl.demo.places import Places
from etl.demo.streets import Network
from geo.crs import wgs84_to_gcj02

CASE_COLUMNS = [
    "案件编号",
    "案由/类别",
    "执法领域",
    "程序类型",
    "发现方式",
    "案件状态",
    "案情描述",
    "地址",
    "上报时间",
    "派遣时间",
    "到场时间",
    "办结时间",
    "所属中队",
    "经度",
    "纬度",
    "当事人",
    "当事人电话",
    "当事人证件号码",
    "投诉人",
    "投诉人电话",
]


@dataclass
class CaseSet:
    """The generated cases: the export rows and, aligned with them, the truth."""

    rows: pd.DataFrame  # CASE_COLUMNS, strings; planted duplicates included
    truth: pd.DataFrame  # one row per export row
    dirty: pd.DataFrame  # planted dirty rows: case_number, kind, detail, row (index into rows)
    duplicates: list[tuple[int, int, bool]]  # (appended row, original row, conflicting)


def _pick_locations(
    geo: Geography, net: Network, places: Places, rng: np.random.Generator, kinds: np.ndarray
) -> dict[str, np.ndarray | list]:
    """A true point (metric) and address context for each case, by location kind."""
    n = len(kinds)
    xy = np.zeros((n, 2))
    segment = np.full(n, -1)
    place = np.full(n, -1)
    village = np.full(n, -1)
    cross = np.full((n, 2), -1)
    offset_along = np.zeros(n)
    streets = net.streets
    seg_class = np.array([streets[s].road_class for s in net.seg_street])
    urban = np.array([streets[s].urban for s in net.seg_street])
    old = np.array([streets[s].old_town for s in net.seg_street])
    has_doors = np.array([d is not None for d in net.doors])
    # a fixed "hotness" per segment: a few streets attract far more cases than others
    hot = np.random.default_rng(rng.integers(1 << 31)).lognormal(0, 0.8, len(seg_class))
    class_w = {"主干路": 1.0, "次干路": 1.3, "支路": 1.0, "巷": 0.9, "乡村道路": 0.3}
    base_w = np.array([class_w[c] for c in seg_class]) * hot * net.seg_length
    pools = {
        "urban": np.flatnonzero(urban),
        "town": np.flatnonzero(~urban & has_doors),
        "main": np.flatnonzero(~urban & (seg_class == "主干路")),
    }
    kind_of_place = np.array(places.kind)
    place_pools = {name: np.flatnonzero(np.isin(kind_of_place, kinds)) for name, kinds in PLACE_LOCATIONS.items()}
    for name, pool in pools.items():
        idx = np.flatnonzero(kinds == name)
        if not len(idx):
            continue
        w = base_w[pool] * np.where(old[pool], 3.0, 1.0)
        chosen = rng.choice(pool, size=len(idx), p=w / w.sum())
        t = rng.uniform(0.05, 0.95, len(idx))
        for j, (i, s) in enumerate(zip(idx, chosen, strict=True)):
            coords = net.seg_coords[s]
            a, b = coords[0], coords[-1]
            d = b - a
            normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
            xy[i] = a + t[j] * d + normal * rng.normal(0, 10)
        segment[idx] = chosen
        offset_along[idx] = t
    for name, pool in place_pools.items():
        idx = np.flatnonzero(kinds == name)
        if not len(idx):
            continue
        w = places.hot[pool] ** 1.5
        chosen = rng.choice(pool, size=len(idx), p=w / w.sum())
        xy[idx] = places.xy[chosen] + rng.normal(0, 35, (len(idx), 2))
        place[idx] = chosen
        segment[idx] = places.segment[chosen]
    idx = np.flatnonzero(kinds == "village")
    if len(idx):
        rural = np.array([0.25 if v.name.endswith("社区") else 1.0 for v in geo.villages])
        chosen = rng.choice(len(geo.villages), size=len(idx), p=rural / rural.sum())
        seats = np.vstack([v.seat for v in geo.villages])
        xy[idx] = seats[chosen] + rng.normal(0, 220, (len(idx), 2))
        village[idx] = chosen
    idx = np.flatnonzero(kinds == "cross")
    if len(idx):
        # urban junctions where two named streets meet
        ends = {}
        for s in np.flatnonzero(urban):
            for node in (net.seg_from[s], net.seg_to[s]):
                ends.setdefault(node, set()).add(net.seg_street[s])
        junctions = [(node, sorted(st)) for node, st in sorted(ends.items()) if len(st) >= 2]
        weight = np.array([3.0 if any(streets[x].old_town for x in st) else 1.0 for _, st in junctions])
        chosen = rng.choice(len(junctions), size=len(idx), p=weight / weight.sum())
        for i, c in zip(idx, chosen, strict=True):
            node, st = junctions[c]
            xy[i] = net.nodes[node] + rng.normal(0, 15, 2)
            pair = rng.choice(st, 2, replace=False)
            cross[i] = pair
    return dict(xy=xy, segment=segment, place=place, village=village, cross=cross, along=offset_along)


def _door(net: Network, s: int, t: float, rng: np.random.Generator) -> int:
    doors = net.doors[s]
    if doors is None:
        return -1
    lo, hi = (doors[0], doors[1]) if rng.random() < 0.5 else (doors[2], doors[3])
    return int(lo + 2 * round(t * max(0, hi - lo) / 2))


def _fmt(values: np.ndarray) -> np.ndarray:
    """datetime64[s] to 'YYYY-MM-DD HH:MM:SS' ('' for NaT)."""
    text = np.datetime_as_string(values, unit="s")
    text = np.char.replace(text, "T", " ")
    return np.where(np.isnat(values), "", text)


def generate_cases(
    geo: Geography,
    net: Network,
    places: Places,
    rng: np.random.Generator,
    end: dt.date,
    years: int,
    scale: float,
) -> CaseSet:
    """Cases of ``years`` years up to ``end`` (inclusive) at ``scale`` times the report's volumes.

    Each step below draws from ``rng`` in a fixed order (the same seed gives the same files):
    when and what, where, how it was found and who handled it, the stage times, the parties, the
    address as written, the phone coordinates; then the export rows, the truth and the planted faults.
    """
    config = geo.config
    cases = _when_and_what(geo, rng, end, years, scale)
    n = len(cases)
    loc_kind, where, town, squad_idx = _where(geo, net, places, rng, cases["category"])
    xy = where["xy"]
    proc = cases["proc"].to_numpy().astype(str)
    received = cases["received"].to_numpy().astype("datetime64[s]")
    source = np.empty(n, dtype=object)
    for procedure, mix in config.sources.items():
        idx = np.flatnonzero(proc == procedure)
        source[idx] = rng.choice(list(mix), size=len(idx), p=np.array(list(mix.values())))
    source = source.astype(str)
    handled = _handling_squad(geo, rng, xy, squad_idx)
    times = _stage_times(geo, rng, end, xy, handled, proc, source, received)
    parties = _parties(geo, rng, cases["category"], proc, source)
    address, style = _address_texts(geo, net, places, rng, loc_kind, where, town)
    lon, lat = geo.to_wgs(xy[:, 0], xy[:, 1])
    has_xy, lon_text, lat_text = _phone_coordinates(geo, rng, xy, source)
    number = _case_numbers(config.case_numbers, proc, received)
    categories = config.categories
    rows = pd.DataFrame(
        {
            "案件编号": number,
            "案由/类别": cases["category"].to_numpy(),
            "执法领域": np.array([categories[c].domain for c in cases["category"]]),
            "程序类型": proc,
            "发现方式": source,
            "案件状态": times["status"],
            "案情描述": np.array([categories[c].description for c in cases["category"]], dtype=object),
            "地址": address,
            "上报时间": _fmt(received),
            "派遣时间": _fmt(times["dispatched"]),
            "到场时间": _fmt(times["arrived"]),
            "办结时间": _fmt(times["closed"]),
            "所属中队": np.array([geo.squads[i].name for i in handled]),
            "经度": lon_text,
            "纬度": lat_text,
            **parties,
        }
    )[CASE_COLUMNS]
    truth = pd.DataFrame(
        {
            "case_number": number,
            "true_lon": np.round(lon, 7),
            "true_lat": np.round(lat, 7),
            "township_code": [geo.townships[i].code for i in town],
            "village_code": [geo.villages[v].code if v >= 0 else "" for v in where["village"]],
            "squad_code": [geo.squads[i].code for i in squad_idx],
            "reported_squad_code": [geo.squads[i].code for i in handled],
            "location_kind": loc_kind,
            "address_style": style,
            "place_id": [places.place_id[p] if p >= 0 else "" for p in where["place"]],
            "segment_id": [net.seg_id[s] if s >= 0 else "" for s in where["segment"]],
            "coords_written": np.where(has_xy, "gcj02", ""),
            "distance_to_station_km": np.round(times["dist_km"] / 1.3, 3),
            "response_minutes": np.round((times["arrived"] - received).astype("timedelta64[s]").astype(float) / 60, 1),
        }
    )
    truth.loc[np.isnat(times["arrived"]), "response_minutes"] = np.nan
    return _plant_dirty_rows(rows, truth, rng, geo)


def _when_and_what(geo: Geography, rng: np.random.Generator, end: dt.date, years: int, scale: float) -> pd.DataFrame:
    """Procedure type, category and received time of every case (columns proc, category, received), oldest first.

    Volumes per procedure type and the category mix come from the demo config; days follow the
    working-day calendar, the category's season and a slight upward trend; hours its hour profile.
    """
    region = geo.region
    config = geo.config
    categories = config.categories
    days = np.arange(np.datetime64(end - dt.timedelta(days=365 * years - 1)), np.datetime64(end + dt.timedelta(days=1)))
    pydays = [dt.date.fromisoformat(str(d)) for d in days]
    doy = np.array([d.timetuple().tm_yday for d in pydays], dtype=float)
    working = np.array([region.calendar.is_working_day(d) for d in pydays])
    trend = np.linspace(0.95, 1.05, len(days))
    blocks = []
    for proc, per_year in config.volumes.items():
        n = round(per_year * years * scale)
        mix = config.mix[proc]
        cats = np.array(list(mix))
        p = np.array(list(mix.values()), dtype=float)
        cat = rng.choice(cats, size=n, p=p / p.sum())
        for c in cats:
            idx = np.flatnonzero(cat == c)
            if not len(idx):
                continue
            weekday_w = np.where(working, 1.0, 0.35 if proc != "投诉举报" else 1.1)
            w = weekday_w * season_weight(categories[c].season, doy) * trend
            day = rng.choice(len(days), size=len(idx), p=w / w.sum())
            hours = np.array(HOUR_PROFILES[categories[c].hours], dtype=float)
            hour = rng.choice(24, size=len(idx), p=hours / hours.sum())
            seconds = hour * 3600 + rng.integers(0, 3600, len(idx))
            received = days[day].astype("datetime64[s]") + seconds.astype("timedelta64[s]")
            blocks.append(pd.DataFrame({"proc": proc, "category": c, "received": received}))
    return pd.concat(blocks, ignore_index=True).sort_values("received", kind="stable").reset_index(drop=True)


def _where(
    geo: Geography, net: Network, places: Places, rng: np.random.Generator, category: pd.Series
) -> tuple[np.ndarray, dict[str, np.ndarray | list], np.ndarray, np.ndarray]:
    """Location kind, true point and address context, township and squad of each case.

    Returns
    -------
    loc_kind, where, town, squad_idx
        The kind drawn from the category's location mix; :func:`_pick_locations`' result (its
        ``xy`` pulled back inside the county where a point fell outside); the township index; the
        index of the squad whose jurisdiction holds the point.
    """
    categories = geo.config.categories
    loc_kind = np.empty(len(category), dtype=object)
    for c, group in category.groupby(category, sort=True).groups.items():
        mix = categories[c].locations
        loc_kind[np.asarray(group)] = rng.choice(
            list(mix), size=len(group), p=np.array(list(mix.values())) / sum(mix.values())
        )
    loc_kind = loc_kind.astype(str)
    where = _pick_locations(geo, net, places, rng, loc_kind)
    xy = where["xy"]
    town = geo.township_of(xy[:, 0], xy[:, 1])
    # points that fell outside the county (a village at the edge): pull them back to the seat
    for i in np.flatnonzero(town < 0):
        if where["village"][i] >= 0:
            xy[i] = geo.villages[where["village"][i]].seat
        elif where["place"][i] >= 0:
            xy[i] = places.xy[where["place"][i]]
        else:
            xy[i] = net.seg_coords[where["segment"][i]][0] if where["segment"][i] >= 0 else geo.townships[0].seat
    town = geo.township_of(xy[:, 0], xy[:, 1])
    town = np.where(town < 0, 0, town)
    return loc_kind, where, town, geo.squad_of_township()[town]


def _handling_squad(geo: Geography, rng: np.random.Generator, xy: np.ndarray, squad_idx: np.ndarray) -> np.ndarray:
    """The squad that handled each case: its jurisdiction's, except ~1.5 % handled by a neighbour's.

    A joint action or a hand-over: the export names the handling squad, the jurisdiction says otherwise.
    """
    handled = squad_idx.copy()
    seats = np.vstack([t.seat for t in geo.townships])
    squad_of_town = geo.squad_of_township()
    for i in np.flatnonzero(rng.random(len(xy)) < 0.015):
        order = np.argsort(((seats - xy[i]) ** 2).sum(axis=1))
        other = [squad_of_town[k] for k in order if squad_of_town[k] != squad_idx[i]]
        handled[i] = other[0]
    return handled


def _stage_times(
    geo: Geography,
    rng: np.random.Generator,
    end: dt.date,
    xy: np.ndarray,
    handled: np.ndarray,
    proc: np.ndarray,
    source: np.ndarray,
    received: np.ndarray,
) -> dict[str, np.ndarray]:
    """When each case was dispatched, reached and closed, and its status at the export (``end``, 18:00).

    Dispatch is immediate for what an officer or a camera found, else about 18 minutes; travel
    follows the handling squad's delay and speed over the road distance from its station (slower
    at night); handling time depends on the procedure type. Stages after the export are empty.

    Returns
    -------
    dict
        ``dispatched``, ``arrived``, ``closed`` (datetime64[s], NaT when not yet), ``status``,
        ``dist_km`` (road distance from the station, km).
    """
    n = len(xy)
    squads = geo.squads
    on_site = np.isin(source, ["巡查发现"])
    station = np.vstack([s.station for s in squads])[handled]
    dist_km = np.hypot(*(xy - station).T) / 1000 * 1.3
    delay = np.array([s.delay_min for s in squads])[handled]
    speed = np.array([s.speed_kmh for s in squads])[handled]
    hour = (received.astype("datetime64[h]") - received.astype("datetime64[D]")).astype(int)
    night = (hour < 7) | (hour >= 21)
    dispatch_min = np.where(on_site | (source == "非现场执法"), rng.uniform(0, 3, n), rng.lognormal(np.log(18), 0.7, n))
    dispatch_min = np.where(proc == "重大案件", dispatch_min + rng.uniform(60, 600, n), dispatch_min)
    travel_min = (delay + dist_km / speed * 60) * rng.lognormal(0, 0.35, n) * np.where(night, 1.5, 1.0)
    travel_min = np.where(on_site, rng.uniform(0, 5, n), travel_min)
    handle_h = np.select(
        [proc == "简易程序", proc == "投诉举报", proc == "一般程序"],
        [rng.uniform(0.15, 1.5, n), rng.lognormal(np.log(30), 0.8, n), rng.lognormal(np.log(25 * 24), 0.6, n)],
        rng.lognormal(np.log(55 * 24), 0.5, n),
    )
    dispatched = received + (dispatch_min * 60).astype("timedelta64[s]")
    arrived = dispatched + (travel_min * 60).astype("timedelta64[s]")
    closed = arrived + (handle_h * 3600).astype("timedelta64[s]")
    now = np.datetime64(end + dt.timedelta(days=1)).astype("datetime64[s]") - np.timedelta64(6 * 3600, "s")
    status = np.where(proc == "投诉举报", "已办结", "已结案").astype(object)
    status[closed > now] = "办理中"
    status[arrived > now] = "已派遣"
    status[dispatched > now] = "待派遣"
    nat = np.datetime64("NaT", "s")
    return {
        "dispatched": np.where(dispatched > now, nat, dispatched),
        "arrived": np.where(arrived > now, nat, arrived),
        "closed": np.where(closed > now, nat, closed),
        "status": status,
        "dist_km": dist_km,
    }


def _parties(
    geo: Geography, rng: np.random.Generator, category: pd.Series, proc: np.ndarray, source: np.ndarray
) -> dict[str, np.ndarray]:
    """The party (a person or a firm, by category) and the complainant of each case, as export columns.

    Most complaints and some camera cases have no known party; complaints have a complainant,
    one in ten anonymous.
    """
    n = len(proc)
    config = geo.config
    region = geo.region
    party_kind = np.array([config.categories[c].party for c in category])
    town_shorts = [t.short for t in geo.townships]
    person_name = people.names(rng, n)
    person_phone = people.mobiles(rng, n)
    person_id = people.id_numbers(rng, n, config.id_areas)
    firm_name, individual = people.firms(rng, n, town_shorts, region.short_name)
    firm_code = people.credit_codes(rng, n, region.code, individual)
    firm_phone = people.mobiles(rng, n)
    is_firm = (party_kind == "firm") | ((party_kind == "trader") & (rng.random(n) < 0.8))
    party = np.where(is_firm, firm_name, person_name).astype(object)
    party_phone = np.where(is_firm, firm_phone, person_phone).astype(object)
    party_id = np.where(is_firm, firm_code, person_id).astype(object)
    unknown_party = (proc == "投诉举报") & (rng.random(n) < 0.75)
    unknown_party |= (source == "非现场执法") & (rng.random(n) < 0.3)
    party[unknown_party] = ""
    party_phone[unknown_party] = ""
    party_id[unknown_party] = ""
    has_complainant = (proc == "投诉举报") | np.isin(source, ["群众投诉"])
    complainant = np.where(has_complainant, people.names(rng, n), "").astype(object)
    complainant_phone = np.where(has_complainant, people.mobiles(rng, n), "").astype(object)
    anonymous = has_complainant & (rng.random(n) < 0.1)
    complainant[anonymous] = "匿名"
    return {
        "当事人": party,
        "当事人电话": party_phone,
        "当事人证件号码": party_id,
        "投诉人": complainant,
        "投诉人电话": complainant_phone,
    }


def _address_texts(
    geo: Geography,
    net: Network,
    places: Places,
    rng: np.random.Generator,
    loc_kind: np.ndarray,
    where: dict[str, np.ndarray | list],
    town: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The address as a person wrote it, and its style (the geocode level it should reach), per case."""
    n = len(loc_kind)
    config = geo.config
    region = geo.region
    address = np.empty(n, dtype=object)
    style = np.empty(n, dtype=object)
    villages = geo.villages
    streets = net.streets
    xy = where["xy"]
    village_seats = np.vstack([v.seat for v in villages])
    for i in range(n):
        k = loc_kind[i]
        t = geo.townships[town[i]]
        if k in ("urban", "town"):
            s = where["segment"][i]
            text, st = addresses.door_address(
                rng, streets[net.seg_street[s]].name, _door(net, s, where["along"][i], rng)
            )
        elif k == "main":
            s = where["segment"][i]
            v = villages[int(np.argmin(((village_seats - xy[i]) ** 2).sum(axis=1)))]
            text, st = addresses.road_section(rng, streets[net.seg_street[s]].name, t.short, v.name)
        elif k == "village":
            v = villages[where["village"][i]]
            vt = geo.townships[geo.township_index[v.township]]
            text, st = addresses.village_address(rng, vt.name, vt.short, v.name, v.short)
        elif k == "cross":
            a, b = where["cross"][i]
            text, st = addresses.cross_address(rng, streets[a].name, streets[b].name)
        else:
            p = where["place"][i]
            if rng.random() < 0.15 and places.door[p] > 0:
                text, st = places.address[p], "门牌"
            else:
                text, st = addresses.place_address(rng, places.name[p], places.kind[p])
        pre = addresses.prefix(rng, config.address_prefixes, region, t.name, t.short) if st != "村社区" else ""
        address[i] = addresses.scribble(rng, pre + text)
        style[i] = st
    return address, style


def _phone_coordinates(
    geo: Geography, rng: np.random.Generator, xy: np.ndarray, source: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which cases carry coordinates from the phone app (GCJ-02, a few metres off), and their text.

    Returns
    -------
    has_xy, lon_text, lat_text
        Most cases found on site or by a camera, few of the others; "" where there are none.
    """
    n = len(xy)
    has_xy = np.where((source == "巡查发现") | (source == "非现场执法"), rng.random(n) < 0.75, rng.random(n) < 0.15)
    noise = rng.normal(0, 8, (n, 2))
    glon, glat = wgs84_to_gcj02(*geo.to_wgs(xy[:, 0] + noise[:, 0], xy[:, 1] + noise[:, 1]))
    lon_text = np.where(has_xy, np.char.mod("%.6f", glon), "").astype(object)
    lat_text = np.where(has_xy, np.char.mod("%.6f", glat), "").astype(object)
    return has_xy, lon_text, lat_text


def _case_numbers(formats: dict[str, str], proc: np.ndarray, received: np.ndarray) -> np.ndarray:
    """Case numbers in the format of each procedure type, numbered per type and year in received order."""
    year = received.astype("datetime64[Y]").astype(int) + 1970
    number = np.empty(len(proc), dtype=object)
    counters: dict[tuple[str, int], int] = {}
    for i in range(len(proc)):
        key = (proc[i], int(year[i]))
        counters[key] = counters.get(key, 0) + 1
        day = str(received[i])[:10].replace("-", "")
        number[i] = formats[proc[i]].format(year=int(year[i]), seq=counters[key], date=day)
    return number


def _plant_dirty_rows(rows: pd.DataFrame, truth: pd.DataFrame, rng: np.random.Generator, geo: Geography) -> CaseSet:
    """Plant the faults real exports have, a few percent in all, and record each one."""
    n = len(rows)
    records: list[tuple[int, str, str]] = []
    taken = np.zeros(n, dtype=bool)

    def pick(share: float, mask: np.ndarray) -> np.ndarray:
        candidates = np.flatnonzero(mask & ~taken)
        k = min(len(candidates), max(1, round(share * n)))
        chosen = np.sort(rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]
        taken[chosen] = True
        return chosen

    coords = truth["coords_written"].to_numpy() == "gcj02"
    closed = rows["办结时间"].to_numpy() != ""
    for i in pick(0.010, ~coords):
        rows.at[i, "地址"] = addresses.UNMATCHABLE[int(rng.integers(0, len(addresses.UNMATCHABLE)))]
        records.append((i, "unmatched_address", f"address {rows.at[i, '地址']!r} names no place in the county"))
    for i in pick(0.008, closed):
        column = "派遣时间" if rng.random() < 0.5 else "到场时间"
        rows.at[i, column] = ""
        records.append((i, "missing_stage_time", f"{column} empty although the case is closed"))
    arrived_later = rows["到场时间"].to_numpy() > rows["派遣时间"].to_numpy()
    for i in pick(0.008, closed & (rows["派遣时间"].to_numpy() != "") & arrived_later):
        if rng.random() < 0.5:
            rows.at[i, "派遣时间"], rows.at[i, "到场时间"] = rows.at[i, "到场时间"], rows.at[i, "派遣时间"]
            records.append((i, "out_of_order_times", "到场时间 before 派遣时间 (swapped)"))
        else:
            received = dt.datetime.fromisoformat(rows.at[i, "上报时间"])
            rows.at[i, "办结时间"] = (received - dt.timedelta(hours=float(rng.uniform(2, 72)))).strftime(
                "%Y-%m-%d %H:%M:%S"
            )
            records.append((i, "out_of_order_times", "办结时间 before 上报时间"))
    lon_bad = {"outside_county": 0.004, "swapped_lonlat": 0.004, "wgs84_as_gcj02": 0.01}
    for kind, share in lon_bad.items():
        for i in pick(share, coords):
            if kind == "outside_county":
                points = geo.config.outside_points
                x, y = points[int(rng.integers(0, len(points)))]
                rows.at[i, "经度"] = f"{x + rng.normal(0, 0.01):.6f}"
                rows.at[i, "纬度"] = f"{y + rng.normal(0, 0.01):.6f}"
                detail = "coordinates in a neighbouring county"
            elif kind == "swapped_lonlat":
                rows.at[i, "经度"], rows.at[i, "纬度"] = rows.at[i, "纬度"], rows.at[i, "经度"]
                detail = "经度 and 纬度 swapped"
            else:
                rows.at[i, "经度"] = f"{truth.at[i, 'true_lon']:.6f}"
                rows.at[i, "纬度"] = f"{truth.at[i, 'true_lat']:.6f}"
                detail = "WGS-84 coordinates in a GCJ-02 export (about 500 m off)"
            truth.at[i, "coords_written"] = {"outside_county": "outside", "swapped_lonlat": "swapped"}.get(
                kind, "wgs84"
            )
            records.append((i, kind, detail))
    # duplicates: an exact copy (export glitch) and a conflicting one (the case changed between exports)
    dup_rows, dup_truth, duplicates = [], [], []
    closed = rows["办结时间"].to_numpy() != ""
    for j, i in enumerate(pick(0.005, closed)):
        copy = rows.iloc[i].copy()
        conflicting = j % 2 == 1
        if conflicting:
            # the earlier export caught the case while still open; the later one has it closed
            rows.at[i, "案件状态"] = "办理中"
            rows.at[i, "办结时间"] = ""
            copy["案情描述"] = copy["案情描述"] + "（已整改）"
        dup_rows.append(copy)
        duplicates.append((n + j, int(i), conflicting))
        dup_truth.append(truth.iloc[i].copy())
        kind = "duplicate_case_number"
        records.append((i, kind, "the first of two rows with this case number"))
        records.append((n + j, kind, "conflicting duplicate (different content)" if conflicting else "exact duplicate"))
    if dup_rows:
        rows = pd.concat([rows, pd.DataFrame(dup_rows)], ignore_index=True)
        truth = pd.concat([truth, pd.DataFrame(dup_truth)], ignore_index=True)
    dirty = pd.DataFrame(records, columns=["row", "kind", "detail"])
    dirty["case_number"] = rows["案件编号"].to_numpy()[dirty["row"].to_numpy()]
    kinds = dirty.groupby("row")["kind"].agg(";".join)
    truth["dirty"] = kinds.reindex(range(len(rows)), fill_value="").to_numpy()
    return CaseSet(rows=rows, truth=truth, dirty=dirty, duplicates=duplicates)
