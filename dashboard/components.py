"""Small shared pieces of the pages: legend strip, notices, case grid, Excel export."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from dashboard import data, fmt
from dashboard.mapview import legend_group
from geo.region import get_region
from layers.base import LayerResult
from layers.queries import directory

CASE_GRID_COLUMNS = [
    {"field": "case_number", "headerName": "案件编号", "minWidth": 150},
    {"field": "category", "headerName": "案由/类别", "minWidth": 100},
    {"field": "procedure_type", "headerName": "程序类型", "minWidth": 100},
    {"field": "status", "headerName": "状态", "minWidth": 90},
    {"field": "address", "headerName": "地址", "minWidth": 200},
    {"field": "geocode_level", "headerName": "定位精度", "minWidth": 100},
    {"field": "squad_code", "headerName": "中队", "minWidth": 80},
    {"field": "received", "headerName": "上报时间", "minWidth": 150},
    {"field": "closed", "headerName": "办结时间", "minWidth": 150},
    {"field": "party_name", "headerName": "当事人", "minWidth": 90},
]
GRID_COLUMNS = [c["field"] for c in CASE_GRID_COLUMNS]


# AG Grid's own texts in Chinese (pagination bar, filters, empty grid).
GRID_LOCALE = {
    "noRowsToShow": "没有案件",
    "loadingOoo": "加载中…",
    "page": "第",
    "of": "/",
    "to": "至",
    "more": "更多",
    "pageSizeSelectorLabel": "每页行数",
    "firstPage": "首页",
    "previousPage": "上一页",
    "nextPage": "下一页",
    "lastPage": "末页",
    "filterOoo": "筛选…",
    "contains": "包含",
    "notContains": "不包含",
    "equals": "等于",
    "notEqual": "不等于",
    "startsWith": "开头是",
    "endsWith": "结尾是",
    "blank": "为空",
    "notBlank": "不为空",
    "andCondition": "且",
    "orCondition": "或",
    "applyFilter": "应用",
    "resetFilter": "重置",
    "clearFilter": "清除",
    "selectAll": "全选",
    "searchOoo": "搜索…",
}


def legend(
    results: dict[str, LayerResult],
    order: list[str],
    toggle: str | None = None,
    hidden: list[str] | None = None,
) -> list[html.Span]:
    """Colour swatches of the rendered layers' legends, in drawing order, without repeats.

    With ``toggle`` (a pattern-matching id type) every entry is clickable, with the id
    ``{"type": toggle, "group": …, "label": …}``; ``group`` names the traces it hides or shows
    (:func:`dashboard.mapview.legend_group`). Entries of ``hidden`` groups are drawn as switched off.
    """
    seen: set[str] = set()
    items = []
    for name in order:
        if name not in results:
            continue
        for item in results[name].legend:
            if item.label in seen:
                continue
            seen.add(item.label)
            children = [html.I(style={"background": item.color}), item.label]
            if toggle is None:
                items.append(html.Span(children, className="legend-item"))
                continue
            group = legend_group(name, results[name], item.label)
            off = " legend-off" if group in (hidden or []) else ""
            items.append(
                html.Span(
                    children,
                    id={"type": toggle, "group": group, "label": item.label},
                    className=f"legend-item legend-toggle{off}",
                    title="点击隐藏或显示此图层",
                    role="button",
                )
            )
    return items


def notes(messages: list[str]) -> list[html.Div]:
    """Notes under a map (e.g. 乡镇边界为近似, a layer not yet available), without repeats."""
    return [html.Div(m, className="map-note") for m in dict.fromkeys(messages)]


def case_grid(grid_id: str, height: str = "360px") -> dag.AgGrid:
    """An AG Grid of case rows (rows from :func:`grid_rows`), single-row selection, filters on every column."""
    return dag.AgGrid(
        id=grid_id,
        columnDefs=CASE_GRID_COLUMNS,
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "flex": 1},
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "localeText": GRID_LOCALE,
            "pagination": True,
            "paginationPageSize": 50,
        },
        getRowId="params.data.id",
        style={"height": height, "width": "100%"},
        className="ag-theme-quartz",
    )


def row_grid(
    grid_id: str,
    columns: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    *,
    empty: str,
    height: str,
    sortable: bool = True,
) -> dag.AgGrid:
    """An AG Grid of rows keyed by ``row_id``, one row selectable by a click, ``empty`` shown without rows."""
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=rows,
        defaultColDef={"sortable": sortable, "resizable": True, "flex": 1},
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "localeText": {**GRID_LOCALE, "noRowsToShow": empty},
        },
        getRowId="params.data.row_id",
        style={"height": height},
        className="ag-theme-quartz",
    )


def grid_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Case rows (from ``layers.queries.case_records.case_rows``) as JSON-ready dicts for :func:`case_grid`."""
    if frame.empty:
        return []
    out = pd.DataFrame(
        {
            "id": frame["id"].astype(int).astype(str),  # AG Grid row ids are strings
            "case_number": frame["case_number"],
            "category": frame["category"],
            "procedure_type": frame["procedure_type"],
            "status": frame["status"],
            "address": frame["address"],
            "geocode_level": frame["geocode_level"],
            "squad_code": frame["squad_code"],
            "received": frame["received_at"].dt.strftime("%Y-%m-%d %H:%M"),
            "closed": frame["closed_at"].dt.strftime("%Y-%m-%d %H:%M"),
            "party_name": frame.get("party_name"),
            "lon": frame["lon"],
            "lat": frame["lat"],
        }
    )
    if "review_reason" in frame:
        out["review_reason"] = frame["review_reason"]
    return out.astype(object).where(out.notna(), None).to_dict("records")


# A spreadsheet reads text beginning with these as a formula (or as the start of one).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "hh:mm"
MIN_WIDTH, MAX_WIDTH = 6, 60  # column widths in characters (a CJK character counts two)


@dataclass(frozen=True)
class ExcelColumn:
    """One exported column: its Chinese header and, optionally, the Excel number format of its cells.

    Without ``number_format`` a date-time column shows ``yyyy-mm-dd hh:mm`` and a date column
    ``yyyy-mm-dd``; e.g. ``ExcelColumn("到达", TIME_FORMAT)`` shows only the time of a date-time.
    """

    label: str
    number_format: str | None = None


def excel_bytes(frames: dict[str, pd.DataFrame], columns: Mapping[str, str | ExcelColumn]) -> bytes:
    """An .xlsx workbook with one sheet per frame (sheet name → frame); the one writer of every export.

    Parameters
    ----------
    frames
        Sheet name → rows; the frames keep their own (English) column names.
    columns
        Column name → its Chinese header (or an :class:`ExcelColumn`), in the order to write. Only
        these columns are written, so ids and internal scores never reach a user.

    Notes
    -----
    Date-times are real Excel date-times (cells with a number format, not text); time-zone-aware
    ones are written in the region's local time. Column widths follow the longest header or value.
    Text cells that a spreadsheet would read as a formula (beginning with ``=``, ``+``, ``-``,
    ``@``, tab or CR, e.g. a complaint text ``=HYPERLINK(…)``) are written as text, never as a
    formula (see :func:`as_text`). Numbers, negative ones included, stay numbers.
    """
    specs = {name: spec if isinstance(spec, ExcelColumn) else ExcelColumn(spec) for name, spec in columns.items()}
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, frame in frames.items():
            chosen = [name for name in specs if name in frame.columns]
            out = pd.DataFrame({specs[name].label: _excel_values(frame[name]) for name in chosen}, index=frame.index)
            out.to_excel(writer, sheet_name=sheet[:31], index=False)
            worksheet = writer.book[sheet[:31]]
            worksheet.freeze_panes = "A2"
            for position, name in enumerate(chosen, start=1):
                _finish_column(worksheet, position, specs[name])
    return buffer.getvalue()


def _excel_values(series: pd.Series) -> pd.Series:
    """Values Excel can store: aware date-times in the region's local time without a zone; NaT/NaN empty."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert(get_region().tz).dt.tz_localize(None)
    elif series.dtype == object:
        series = series.map(_local_naive)
    return series.astype(object).where(series.notna(), None)


def _local_naive(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(get_region().tz).replace(tzinfo=None)
    return value


def _finish_column(worksheet: Any, position: int, spec: ExcelColumn) -> None:
    """Number formats of the date/time cells, formula-like text as text, and a width that fits."""
    widest = _text_width(spec.label)
    for (cell,) in worksheet.iter_rows(min_col=position, max_col=position, min_row=2):
        value = cell.value
        if isinstance(value, dt.datetime):
            cell.number_format = spec.number_format or DATETIME_FORMAT
            width = len(cell.number_format)
        elif isinstance(value, dt.date):
            cell.number_format = spec.number_format or DATE_FORMAT
            width = len(cell.number_format)
        else:
            as_text(cell)
            width = _text_width(value)
        widest = max(widest, width)
    column = worksheet.cell(row=1, column=position).column_letter
    worksheet.column_dimensions[column].width = min(max(widest + 2, MIN_WIDTH), MAX_WIDTH)


def _text_width(value: Any) -> int:
    """Characters a value takes in a cell, a wide (CJK, full-width) character counting two."""
    if value is None:
        return 0
    text = value if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def as_text(cell: Any) -> None:
    """Make an openpyxl ``cell`` holding formula-like text a plain text cell.

    The cell is marked ``quotePrefix`` (as Excel marks typed text); the value is kept as it is;
    only string cells are touched.
    """
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True


def send_excel(
    frames: dict[str, pd.DataFrame], columns: Mapping[str, str | ExcelColumn], filename: str
) -> dict[str, Any]:
    """A ``dcc.Download`` payload of :func:`excel_bytes`; every export is written to the audit log."""
    from dashboard.access.web import audit_request

    audit_request("export", target=filename, detail={name: len(frame) for name, frame in frames.items()})
    return dcc.send_bytes(excel_bytes(frames, columns), filename)


def data_stamp() -> html.Div:
    """ "数据截至 …": the received time of the newest case, the source of the wall's stamp, for every page."""
    try:
        newest = data.read(directory.newest_case_time, cache=True)
    except data.DataUnavailable:
        newest = None
    return html.Div(f"数据截至 {fmt.local_time(newest)}", className="data-stamp")
