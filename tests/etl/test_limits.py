"""Bounds on untrusted input: zip bombs, nested zips, zip slip, forged headers, file and cell size, stored rejects."""

from __future__ import annotations

import hashlib
import json
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from etl.jobs import cases, places
from etl.mapping import load_mapping
from etl.readers.input_files import GEO_SUFFIXES, read_source_file, source_files
from etl.readers.kml import read_kml
from etl.readers.tabular import CSV_SUFFIXES, read_table
from etl.runs import stored_raw
from geo.errors import InputError
from geo.settings import get_settings

PLACES_CSV = "名称,经度,纬度\n农贸市场,119.81,28.89\n阳光小区,119.805,28.895\n"


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set EGIS_ETL_* variables for one test (the settings are read again, and again after it)."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def _set(env: pytest.MonkeyPatch, **values: object) -> None:
    for name, value in values.items():
        env.setenv(name, str(value))
    get_settings.cache_clear()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _expand(path: Path) -> list[str]:
    """The names of the table files under ``path`` (raises what :func:`source_files` raises)."""
    with source_files(path, CSV_SUFFIXES) as files:
        return [f.name for f in files]


def test_a_zip_bomb_is_refused_quickly_with_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("cases.csv", "w", force_zip64=True) as member,
    ):
        member.write("案件编号,地址\n".encode())
        block = b"0" * (1 << 20)
        for _ in range(320):  # 320 MB of zeros, a few hundred KB compressed (the review's bomb)
            member.write(block)
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()
    began = time.perf_counter()
    with pytest.raises(InputError, match=r"bomb\.zip") as info, source_files(bomb, CSV_SUFFIXES):
        pass
    seconds = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "EGIS_ETL_MAX_FILE_MB" in str(info.value) or "EGIS_ETL_MAX_ARCHIVE_RATIO" in str(info.value)
    assert seconds < 5 and peak < 32 << 20
    assert not list(tmp_path.glob("egis-etl-*"))


def test_many_small_members_cannot_pass_the_total_expansion_limit(tmp_path: Path, settings_env) -> None:
    _set(settings_env, EGIS_ETL_MAX_ARCHIVE_MB=1)
    archive = _zip(tmp_path / "many.zip", {f"p{i}.csv": b"x" * 400_000 for i in range(4)})
    with pytest.raises(InputError, match=r"many\.zip.*EGIS_ETL_MAX_ARCHIVE_MB"):
        _expand(archive)
    _set(settings_env, EGIS_ETL_MAX_ARCHIVE_MB=1024, EGIS_ETL_MAX_ARCHIVE_MEMBERS=3)
    with pytest.raises(InputError, match=r"many\.zip.*EGIS_ETL_MAX_ARCHIVE_MEMBERS"):
        _expand(archive)


def test_a_header_that_understates_the_size_is_refused(tmp_path: Path) -> None:
    data = "名称,经度,纬度\n".encode() + b"a,119.8,28.9\n" * 5000
    archive = _zip(tmp_path / "forged.zip", {"p.csv": data})
    raw = bytearray(archive.read_bytes())
    true_size = len(data).to_bytes(4, "little")
    assert raw.count(true_size) == 2  # local header and central directory entry
    archive.write_bytes(bytes(raw).replace(true_size, (100).to_bytes(4, "little")))
    with pytest.raises(InputError, match=r"forged\.zip"):
        _expand(archive)


def test_a_plain_file_larger_than_the_limit_is_refused(tmp_path: Path, settings_env) -> None:
    path = tmp_path / "places.csv"
    path.write_text(PLACES_CSV + "x,1,2\n" * 200_000, encoding="utf-8")
    _set(settings_env, EGIS_ETL_MAX_FILE_MB=1)
    with pytest.raises(InputError, match=r"places\.csv.*1\.0 MB.*EGIS_ETL_MAX_FILE_MB"):
        _expand(path)


def test_a_kmz_bomb_and_an_xlsx_bomb_are_refused(tmp_path: Path) -> None:
    zeros = b"<kml>" + b" " * (40 << 20) + b"</kml>"
    kmz = _zip(tmp_path / "bomb.kmz", {"doc.kml": zeros})
    with pytest.raises(InputError, match=r"bomb\.kmz"):
        read_kml(kmz)
    xlsx = _zip(tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": zeros})
    with pytest.raises(InputError, match=r"bomb\.xlsx.*EGIS_ETL_MAX_ARCHIVE_RATIO"):
        read_table(xlsx)


def test_a_zip_inside_a_zip_is_read_and_named(tmp_path: Path) -> None:
    inner = _zip(tmp_path / "inner.zip", {"places.csv": PLACES_CSV.encode(), "source.toml": b'crs = "bd09"\n'})
    outer = _zip(tmp_path / "outer.zip", {"2025/inner.zip": inner.read_bytes(), "readme.csv": PLACES_CSV.encode()})
    with source_files(outer, GEO_SUFFIXES) as files:
        names = [f.name for f in files]
        layers = [layer for f in files for layer in read_source_file(f, load_mapping("places"))]
        configs = {f.name: f.config.get("crs") for f in files}
    assert names == [f"{outer}!2025/inner.zip!places.csv", f"{outer}!readme.csv"]
    assert configs[names[0]] == "bd09" and configs[names[1]] is None
    assert [len(layer.frame) for layer in layers] == [2, 2] and layers[0].source == names[0]


def test_zips_nested_deeper_than_the_limit_are_refused(tmp_path: Path, settings_env) -> None:
    level = _zip(tmp_path / "z0.zip", {"places.csv": PLACES_CSV.encode()})
    for depth in range(1, 4):
        level = _zip(tmp_path / f"z{depth}.zip", {level.name: level.read_bytes()})
    with pytest.raises(InputError, match=r"z3\.zip!z2\.zip!z1\.zip!z0\.zip.*EGIS_ETL_MAX_ARCHIVE_DEPTH"):
        _expand(level)
    _set(settings_env, EGIS_ETL_MAX_ARCHIVE_DEPTH=3)
    assert _expand(level) == [f"{level}!z2.zip!z1.zip!z0.zip!places.csv"]


def test_zip_slip_members_are_never_written_outside(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    archive = _zip(
        work / "slip.zip",
        {
            "../../escaped.csv": PLACES_CSV.encode(),
            "/tmp/absolute_escape.csv": PLACES_CSV.encode(),
            "a/../../escaped2.csv": PLACES_CSV.encode(),
            "..\\escaped3.csv": PLACES_CSV.encode(),
            "ok/places.csv": PLACES_CSV.encode(),
        },
    )
    with source_files(archive, CSV_SUFFIXES) as files:
        assert [f.name for f in files] == [f"{archive}!ok/places.csv"]
        scratch = files[0].path.parents[2]  # the temporary folder of this load
        written = sorted(p.name for p in scratch.rglob("*") if p.is_file())
    assert written == ["places.csv"]
    assert not list(tmp_path.rglob("escaped*")) and not Path("/tmp/absolute_escape.csv").exists()


def test_rejected_raw_rows_are_stored_cut_with_hash_and_length(settings_env) -> None:
    long_row = {"案件编号": "C1", "案情描述": "很长" * 50_000, "地址": "解放街"}
    stored = stored_raw(long_row)
    whole = json.dumps(long_row, ensure_ascii=False).encode()
    assert stored["raw_truncated"] and stored["raw_bytes"] == len(whole)
    assert stored["raw_sha256"] == hashlib.sha256(whole).hexdigest()
    assert len(json.dumps(stored["raw"], ensure_ascii=False).encode()) <= 4096
    assert stored["raw"]["案件编号"] == "C1" and stored["raw"]["案情描述"].endswith("…")
    short = stored_raw({"a": "b"})
    assert short["raw"] == {"a": "b"} and not short["raw_truncated"] and short["raw_bytes"] == len(b'{"a": "b"}')
    huge_keys = stored_raw({"k" * 3000 + str(i): "v" for i in range(5)})
    assert huge_keys["raw_truncated"] and len(json.dumps(huge_keys["raw"]).encode()) <= 4096 * 1.1


def test_a_case_row_with_an_oversized_field_is_rejected_and_stored_cut(world_engine: Engine, tmp_path: Path) -> None:
    description = "乱堆放" * 40_000  # 120,000 characters, beyond 64 K
    path = tmp_path / "cases.csv"
    path.write_text(
        "案件编号,上报时间,地址,案情描述\n"
        "C1,2025-03-03 09:00:00,熟溪街道解放街25号,正常描述\n"
        f"C2,2025-03-03 10:00:00,熟溪街道解放街3号,{description}\n",
        encoding="utf-8",
    )
    report = cases.load(world_engine, path)
    assert report.status == "succeeded" and (report.read, report.loaded, report.rejected) == (2, 1, 1)
    with world_engine.connect() as conn:
        reject = conn.execute(
            text("SELECT row_number, reason, raw, raw_bytes, raw_sha256, raw_truncated FROM etl_rejects")
        ).one()
        stored = conn.execute(text("SELECT case_number FROM cases")).scalars().all()
    assert stored == ["C1"]
    assert reject.row_number == 3 and "案情描述" in reject.reason and "65,536" in reject.reason
    whole = {"案件编号": "C2", "上报时间": "2025-03-03 10:00:00", "地址": "熟溪街道解放街3号", "案情描述": description}
    text_whole = json.dumps(whole, ensure_ascii=False).encode()
    assert reject.raw_truncated and reject.raw_bytes == len(text_whole)
    assert reject.raw_sha256 == hashlib.sha256(text_whole).hexdigest()
    assert reject.raw["案件编号"] == "C2" and len(json.dumps(reject.raw, ensure_ascii=False).encode()) <= 4096


def test_a_place_with_an_oversized_kml_description_is_rejected(world_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "places.kml"
    huge = "说明" * 40_000
    path.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>农贸市场</name><Point><coordinates>119.81,28.89</coordinates></Point></Placemark>"
        f"<Placemark><name>阳光小区</name><description>{huge}</description>"
        "<Point><coordinates>119.805,28.895</coordinates></Point></Placemark>"
        "</Document></kml>",
        encoding="utf-8",
    )
    report = places.load(world_engine, path)
    assert (report.read, report.rejected) == (2, 1)
    with world_engine.connect() as conn:
        reason, truncated = conn.execute(text("SELECT reason, raw_truncated FROM etl_rejects")).one()
    assert "description" in reason and "EGIS_ETL_MAX_FIELD_CHARS" in reason and truncated
