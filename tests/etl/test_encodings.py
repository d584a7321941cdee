"""Encodings: Big5 and Shift-JIS exports stop naming the likely encoding; --encoding and source.toml force one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from etl.jobs import cases
from etl.mapping import load_mapping
from etl.readers.encoding import declared_encoding, detect_encoding, forced_encoding
from etl.readers.input_files import GEO_SUFFIXES, read_source_file, source_files
from etl.readers.tabular import read_table
from etl.readers.vector import read_vector, shapefile_encoding
from geo.errors import ConfigError, InputError

# a Taiwanese / Hong Kong style case export (traditional characters), as Big5 writes it
BIG5_ROWS = [
    ["案件編號", "上報時間", "案件類別", "地址", "案情描述", "當事人"],
    [
        "TW-001",
        "2025-03-03 09:00:00",
        "違法建設",
        "熟溪街道解放街25號",
        "在人行道上亂堆放建築垃圾，影響行人通行",
        "陳大文",
    ],
    ["TW-002", "2025-03-04 10:30:00", "市容環衛", "熟溪街道解放街3號", "店外經營佔道擺攤，多次勸導無效", "林曉明"],
    [
        "TW-003",
        "2025-03-05 14:00:00",
        "工地揚塵",
        "熟溪街道解放街7號",
        "工地未覆蓋裸土，揚塵嚴重，請處理",
        "張國榮",
    ],
]
# a Japanese complaint export, as Shift-JIS writes it
SJIS_ROWS = [
    ["案件番号", "受付日時", "分類", "住所", "内容", "当事者"],
    [
        "JP-001",
        "2025-03-03 09:00",
        "不法投棄",
        "東京都新宿区西新宿二丁目8番1号",
        "歩道にごみが放置されています",
        "山田太郎",
    ],
    ["JP-002", "2025-03-04 10:30", "騒音", "大阪府大阪市北区梅田一丁目", "夜間の工事がうるさいとの苦情", "佐藤花子"],
]
# simplified Chinese as GBK holds it, with traditional characters and rare but real name characters
GBK_ROWS = [
    ["案件编号", "上报时间", "案由/类别", "地址", "案情描述", "当事人"],
    ["C001", "2025-03-03 09:00:00", "违法建设", "熟溪街道解放街25号", "在人行道上乱堆放建筑垃圾，影响行人通行", "陈喆"],
    ["C002", "2025-03-04 10:30:00", "户外广告", "熟溪街道解放街3号", "招牌写着「臺灣珍珠奶茶」「張記麵館」", "王堃"],
    ["C003", "2025-03-05 14:00:00", "工地扬尘", "履坦镇坛头村", "工地未覆盖裸土，扬尘严重", "李昇"],
    ["C004", "2025-03-06 08:15:00", "市容环卫", "泉溪镇", "垃圾桶满溢，请尽快清运", "赵珺琇"],
]
BIG5_MAPPING = """[cases]
case_number = ["案件編號"]
received_at = ["上報時間"]
category = ["案件類別"]
address = ["地址"]
description = ["案情描述"]
party_name = ["當事人"]
"""


def _csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    path.write_bytes("\r\n".join(",".join(r) for r in rows).encode(encoding) + b"\r\n")
    return path


def test_big5_csv_stops_naming_big5(tmp_path: Path) -> None:
    path = _csv(tmp_path / "cases.csv", BIG5_ROWS, "big5")
    with pytest.raises(InputError, match="big5") as info:
        read_table(path)
    assert str(path) in str(info.value) and "--encoding big5" in str(info.value)


def test_shift_jis_csv_stops_naming_shift_jis(tmp_path: Path) -> None:
    path = _csv(tmp_path / "complaints.csv", SJIS_ROWS, "shift_jis")
    with pytest.raises(InputError, match="shift_jis") as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_declared_encoding_reads_big5_and_shift_jis_right(tmp_path: Path) -> None:
    big5 = read_table(_csv(tmp_path / "b.csv", BIG5_ROWS, "big5"), encoding="cp950")
    assert list(big5.frame.columns) == BIG5_ROWS[0] and big5.frame.iloc[0]["案情描述"] == BIG5_ROWS[1][4]
    with forced_encoding("shift_jis"):
        sjis = read_table(_csv(tmp_path / "j.csv", SJIS_ROWS, "shift_jis"), encoding=declared_encoding())
    assert sjis.frame.iloc[1]["住所"] == SJIS_ROWS[2][3] and sjis.encoding == "cp932"
    with pytest.raises(InputError, match="not cp932"):
        read_table(_csv(tmp_path / "g.csv", GBK_ROWS, "gbk"), encoding="cp932")


@pytest.mark.parametrize("encoding,detected", [("gbk", "gb18030"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")])
def test_gbk_and_utf8_with_rare_and_traditional_characters_raise_no_alarm(
    tmp_path: Path, encoding: str, detected: str
) -> None:
    table = read_table(_csv(tmp_path / "cases.csv", GBK_ROWS, encoding))
    assert table.encoding == detected
    assert list(table.frame["当事人"]) == ["陈喆", "王堃", "李昇", "赵珺琇"]
    assert table.frame.iloc[1]["案情描述"] == GBK_ROWS[2][4]


def test_detection_names_no_encoding_when_none_fits() -> None:
    # GB18030 decodes this, but into private-use and rare characters that neither Big5 nor Shift-JIS explains
    data = bytes.fromhex("aaa1aba2aca3ada4aea5afa6f8a1f9a2faa3fba4fca5fda6fea7") * 4
    with pytest.raises(InputError, match="neither Big5 nor Shift-JIS") as info:
        detect_encoding(data, "odd.csv")
    assert "odd.csv" in str(info.value)


def test_unknown_declared_encoding_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="klingon"):
        declared_encoding({"encoding": "klingon", "_file": str(tmp_path / "source.toml")})
    with pytest.raises(ConfigError, match="klingon"), forced_encoding("klingon"):
        pass


def _big5_shapefile(tmp_path: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {"名稱": ["解放街清掃線", "熟溪路清掃線"]}, geometry=[Point(119.81, 28.9), Point(119.82, 28.91)], crs=4326
    )
    path = tmp_path / "big5" / "s.shp"
    path.parent.mkdir()
    pyogrio.write_dataframe(frame, path, encoding="CP950")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    data[29] = 0  # no code page byte: the .dbf says nothing about its encoding
    dbf.write_bytes(bytes(data))
    return path


def test_shapefile_dbf_in_big5_without_cpg_stops_naming_big5(tmp_path: Path) -> None:
    path = _big5_shapefile(tmp_path)
    with pytest.raises(InputError, match="big5") as info:
        shapefile_encoding(path)
    assert "s.shp" in str(info.value)
    [layer] = read_vector(path, encoding="cp950")
    assert list(layer.frame["名稱"]) == ["解放街清掃線", "熟溪路清掃線"]


def test_encoding_in_source_toml_reads_the_big5_shapefile(tmp_path: Path) -> None:
    path = _big5_shapefile(tmp_path)
    (path.parent / "source.toml").write_text('encoding = "big5"\n', encoding="utf-8")
    with source_files(path.parent, GEO_SUFFIXES) as files:
        [source] = files
        assert source.encoding == "cp950"
        [layer] = read_source_file(source, load_mapping("places"))
    assert list(layer.frame["名稱"]) == ["解放街清掃線", "熟溪路清掃線"]


def test_case_load_of_a_big5_export_fails_and_loads_with_encoding_big5(
    world_engine: Engine, schema_url: URL, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "cases.csv", BIG5_ROWS, "big5")
    mapping = tmp_path / "tw.toml"
    mapping.write_text(BIG5_MAPPING, encoding="utf-8")
    with pytest.raises(InputError, match="big5"):
        cases.load(world_engine, path, mapping=mapping)
    with world_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 0
    env = {**os.environ, "DATABASE_URL": schema_url.render_as_string(hide_password=False), "COLUMNS": "250"}
    command = [sys.executable, "-m", "etl", "load", "cases", str(path), "--mapping", str(mapping)]
    refused = subprocess.run(command, capture_output=True, text=True, env=env)
    assert refused.returncode != 0 and "big5" in refused.stdout + refused.stderr
    loaded = subprocess.run([*command, "--encoding", "big5"], capture_output=True, text=True, env=env)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    with world_engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT case_number, description FROM cases")).all())
        status = conn.execute(text("SELECT status FROM etl_runs ORDER BY id DESC LIMIT 1")).scalar()
    assert status == "succeeded"
    assert stored == {row[0]: row[4] for row in BIG5_ROWS[1:]}
