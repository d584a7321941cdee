"""Tabular reading (GBK, UTF-8 with BOM, XLSX) and the column mapping."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from etl.mapping import load_mapping
from etl.readers.encoding import detect_encoding
from etl.readers.tabular import read_table
from geo.errors import ConfigError, InputError, ValidationError

ROWS = [
    ["案件编号", "案由/类别", "地址"],
    ["WY2025-0001", "占道经营", "壶山街道解放街12号"],
    ["WY2025-0002", "违法建设", ""],
]


def _csv(path: Path, encoding: str) -> Path:
    path.write_bytes("\n".join(",".join(r) for r in ROWS).encode(encoding) + b"\n")
    return path


@pytest.mark.parametrize("encoding,detected", [("gbk", "gb18030"), ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8")])
def test_csv_encodings_give_the_same_chinese_text(tmp_path: Path, encoding: str, detected: str) -> None:
    table = read_table(_csv(tmp_path / "cases.csv", encoding))
    assert table.encoding == detected
    assert list(table.frame.columns) == ROWS[0]
    assert table.frame.iloc[0]["地址"] == "壶山街道解放街12号"
    assert table.frame.iloc[1]["地址"] == ""
    assert table.row_number(1) == 3


def test_xlsx_written_by_openpyxl(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    for row in ROWS:
        book.active.append(row)
    book.save(tmp_path / "cases.xlsx")
    frame = read_table(tmp_path / "cases.xlsx").frame
    assert frame.equals(pd.DataFrame(ROWS[1:], columns=ROWS[0]))


def test_unreadable_files_name_the_file_and_cause(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv.*not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"bad\.xlsx"):
        read_table(tmp_path / "bad.xlsx")
    (tmp_path / "x.dbf").write_bytes(b"")
    with pytest.raises(InputError, match="unknown table format"):
        read_table(tmp_path / "x.dbf")
    with pytest.raises(InputError, match="neither UTF-8 nor GBK"):
        detect_encoding(b"\xff\xfe\xff\xfe\x81")


def test_mapping_renames_chinese_headers_and_reports_missing_required(tmp_path: Path) -> None:
    mapping = load_mapping("cases")
    frame = read_table(_csv(tmp_path / "c.csv", "gbk")).frame
    renamed = mapping.apply(frame, "c.csv")
    assert {"case_number", "category", "address"} <= set(renamed.columns)
    with pytest.raises(ValidationError, match="case_number") as info:
        mapping.apply(frame.drop(columns=["案件编号"]), "c.csv")
    assert "案由/类别" in str(info.value)


def test_mapping_file_overrides_defaults(tmp_path: Path) -> None:
    override = tmp_path / "county.toml"
    override.write_text('[cases]\ncase_number = ["工单号"]\n', encoding="utf-8")
    mapping = load_mapping("cases", override)
    frame = pd.DataFrame({"工单号": ["1"], "地址": ["x"]})
    assert "case_number" in mapping.apply(frame, "f").columns
    with pytest.raises(ConfigError, match="known"):
        load_mapping("nonsense")
