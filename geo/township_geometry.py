"""Township polygons and village seats from the region config: real where given, else derived and approximate.

No official township boundaries exist offline. Unless ``[gazetteer] township_polygons`` names a
polygon file, the polygons are a Voronoi partition of the township seats (in the metric CRS),
clipped to the county outline, so they tile the county exactly; they are marked approximate.
Villages without a known seat get a deterministic approximate seat inside their township.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from geo.admin_names import display_name
from geo.crs import to_wgs84, transform_geometry
from geo.errors import ConfigError, InputError
from geo.region import Region

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


def read_csv(path: Path, names: list[str] | None = None) -> pd.DataFrame:
    """Read a gazetteer CSV as strings; a file that cannot be read raises :class:`InputError`."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, header=None if names else "infer", names=names)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def read_seats(region: Region) -> dict[str, tuple[float, float]]:
    """Seat points (WGS-84) keyed by 9-digit township code and by ``"township code:village name"``."""
    if region.seats_file is None:
        return {}
    table = read_csv(region.seats_file, ADCODE_COLUMNS)
    table = table[(table["longitude"] != "") & (table["latitude"] != "")]
    lon, lat = to_wgs84(table["longitude"].astype(float), table["latitude"].astype(float), region.seats_crs)
    seats: dict[str, tuple[float, float]] = {}
    for level, code, name, x, y in zip(table["level"], table["code"], table["name"], lon, lat, strict=True):
        if level == "town":
            seats[code[:9]] = (float(x), float(y))
        elif level == "village":
            seats[f"{code[:9]}:{display_name(name, 'village')}"] = (float(x), float(y))
    return seats


@dataclass(frozen=True)
class TownshipGeometry:
    """Township polygons and seats, village seats, and which of them are approximate (all WGS-84)."""

    townships: pd.DataFrame  # code, name, seat (Point), seat_approximate, polygon (MultiPolygon), approximate
    villages: pd.DataFrame  # code, name, township, seat (Point), approximate


def _voronoi(region: Region, generators: list[tuple[str, tuple[float, float]]]) -> dict[str, MultiPolygon]:
    """Voronoi cells of (township code, seat) generators in the metric CRS, clipped and dissolved by township.

    Township seats and the known village seats are the generators, so every known seat lies
    inside its own township's polygon.
    """
    codes = [code for code, _ in generators]
    points_m = transform_geometry(shapely.points([xy for _, xy in generators]), region.metric_crs, inverse=True)
    outline_m = transform_geometry(region.outline, region.metric_crs, inverse=True)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points_m), extend_to=outline_m.buffer(10_000))
    )
    pieces: dict[str, list[BaseGeometry]] = {}
    for cell in cells:
        inside = [c for c, p in zip(codes, points_m, strict=True) if cell.covers(p)]
        if len(inside) != 1:
            raise ConfigError(f"seats of {inside} share a Voronoi cell: two seats at the same point?")
        pieces.setdefault(inside[0], []).append(cell.intersection(outline_m))
    polygons: dict[str, MultiPolygon] = {}
    for code, parts in pieces.items():
        merged = shapely.make_valid(shapely.union_all(parts))
        polygons[code] = MultiPolygon(
            [g for g in shapely.get_parts(merged) if g.geom_type == "Polygon" and g.area > 1.0]
        )
    return {c: transform_geometry(g, region.metric_crs) for c, g in polygons.items()}


def _real_polygons(path: Path) -> dict[str, MultiPolygon]:
    import pyogrio

    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several DataSourceError kinds
        raise InputError(f"cannot read township polygons {path}: {exc}") from exc
    if "code" not in frame.columns:
        raise InputError(f"township polygons {path} need a 'code' field with 9-digit township codes")
    if frame.crs is not None and frame.crs.to_epsg() not in (4326, 4490):
        frame = frame.to_crs(4326)
    out: dict[str, MultiPolygon] = {}
    for code, geom in zip(frame["code"].astype(str), frame.geometry, strict=True):
        geom = shapely.make_valid(geom)
        parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
        out[code[:9]] = MultiPolygon(parts)
    return out


def _spread_points(polygon: BaseGeometry, fixed: np.ndarray, n: int, seed: int, centre=None) -> np.ndarray:
    """``n`` well-spread points inside ``polygon`` (metric), away from ``fixed`` ones (Lloyd's algorithm).

    With ``centre`` (x, y, sigma) the points gather around it, as urban communities do.
    """
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = polygon.bounds
    samples = np.empty((0, 2))
    while len(samples) < 3000:
        if centre is None:
            cand = rng.uniform((minx, miny), (maxx, maxy), size=(6000, 2))
        else:
            cand = rng.normal((centre[0], centre[1]), centre[2], size=(6000, 2))
        keep = shapely.contains_xy(polygon, cand[:, 0], cand[:, 1])
        samples = np.vstack([samples, cand[keep]])
        if centre is not None and len(samples) < 100:
            centre = None  # the centre is outside or at the edge: fall back to uniform
    samples = samples[:3000]
    centres = samples[rng.choice(len(samples), size=n, replace=False)]
    k_fixed = len(fixed)
    for _ in range(12):
        allc = np.vstack([fixed, centres]) if k_fixed else centres
        d = ((samples[:, None, :] - allc[None, :, :]) ** 2).sum(axis=2)
        nearest = d.argmin(axis=1)
        for j in range(n):
            members = samples[nearest == j + k_fixed]
            if len(members):
                centres[j] = members.mean(axis=0)
    # a centroid can fall outside a concave polygon: snap to the nearest sample
    d = ((samples[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return samples[d.argmin(axis=0)]


def derive_township_geometry(region: Region) -> TownshipGeometry:
    """Township polygons (real or derived) and seats of every township and village, from the region config.

    Parameters
    ----------
    region
        The region config; uses its outline, gazetteer files, ``township_polygons`` and
        ``approximate_seats``.

    Returns
    -------
    TownshipGeometry
        Deterministic for a given config.
    """
    if region.townships_file is None:
        raise ConfigError("[gazetteer] townships is needed to build township polygons")
    towns = read_csv(region.townships_file)
    towns = towns[towns["code"].str.len() == 9]
    seats = read_seats(region)
    town_seats = {c: seats[c] for c in towns["code"] if c in seats}
    seat_approx = {c: False for c in town_seats}
    for code, xy in region.approximate_seats.items():
        if code not in town_seats:
            town_seats[code] = xy
            seat_approx[code] = True
    missing = sorted(set(towns["code"]) - set(town_seats))
    if region.township_polygons is not None:
        polygons, approximate = _real_polygons(region.township_polygons), False
    elif missing:
        raise ConfigError(
            f"townships {missing} have no seat: add them to [gazetteer.approximate_seats] or set township_polygons"
        )
    else:
        generators = sorted(town_seats.items())
        generators += sorted((key[:9], xy) for key, xy in seats.items() if ":" in key and key[:9] in town_seats)
        polygons, approximate = _voronoi(region, generators), True
    rows = []
    for code, name in zip(towns["code"], towns["name"], strict=True):
        polygon = polygons.get(code)
        seat = town_seats.get(code)
        if seat is None and polygon is not None:
            seat = polygon.representative_point().coords[0]
            seat_approx[code] = True
        rows.append(
            dict(
                code=code,
                name=name.strip(),
                seat=Point(seat) if seat else None,
                seat_approximate=seat_approx.get(code, True),
                polygon=polygon,
                approximate=approximate,
            )
        )
    township_frame = pd.DataFrame(rows)
    villages = _village_seats(region, township_frame, seats)
    return TownshipGeometry(township_frame, villages)


def _village_seats(region: Region, towns: pd.DataFrame, seats: dict[str, tuple[float, float]]) -> pd.DataFrame:
    if region.villages_file is None:
        return pd.DataFrame(columns=["code", "name", "township", "seat", "approximate"])
    table = read_csv(region.villages_file)
    table = table[table["code"].str.len() == 12]
    rows = []
    for town in towns.itertuples():
        mine = table[(table["streetCode"].where(table["streetCode"] != "", table["code"].str[:9])) == town.code]
        if mine.empty:
            continue
        names = [display_name(n, "village") for n in mine["name"]]
        known = [seats.get(f"{town.code}:{n}") for n in names]
        fixed_wgs = [k for k in known if k is not None]
        derived: list[np.ndarray] = []
        unknown = [i for i, k in enumerate(known) if k is None]
        if unknown and town.polygon is not None:
            poly_m = transform_geometry(town.polygon, region.metric_crs, inverse=True)
            fixed_m = (
                shapely.get_coordinates(transform_geometry(shapely.points(fixed_wgs), region.metric_crs, inverse=True))
                if fixed_wgs
                else np.empty((0, 2))
            )
            communities = [i for i in unknown if names[i].endswith("社区")]
            others = [i for i in unknown if not names[i].endswith("社区")]
            seat_m = shapely.get_coordinates(transform_geometry(town.seat, region.metric_crs, inverse=True))[0]
            placed: dict[int, np.ndarray] = {}
            for group, centre in ((communities, (seat_m[0], seat_m[1], 1200.0)), (others, None)):
                if not group:
                    continue
                points = _spread_points(poly_m, fixed_m, len(group), int(town.code) + len(group), centre)
                fixed_m = np.vstack([fixed_m, points])
                placed.update(zip(group, points, strict=True))
            derived = [placed[i] for i in unknown]
        derived_wgs = {}
        if derived:
            lon, lat = to_wgs84(np.array(derived)[:, 0], np.array(derived)[:, 1], region.metric_crs)
            derived_wgs = dict(zip(unknown, zip(lon, lat, strict=True), strict=True))
        for i, (code, raw_name) in enumerate(zip(mine["code"], mine["name"], strict=True)):
            xy = known[i] if known[i] is not None else derived_wgs.get(i)
            rows.append(
                dict(
                    code=code,
                    name=raw_name.strip(),
                    township=town.code,
                    seat=Point(float(xy[0]), float(xy[1])) if xy is not None else None,
                    approximate=known[i] is None,
                )
            )
    return pd.DataFrame(rows)


_CACHE: dict[Path, TownshipGeometry] = {}


def township_geometry(region: Region) -> TownshipGeometry:
    """:func:`derive_township_geometry`, cached per region config file."""
    if region.path not in _CACHE:
        _CACHE[region.path] = derive_township_geometry(region)
    return _CACHE[region.path]
