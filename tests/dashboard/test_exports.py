"""Every page's Excel export, called over HTTP as the admin: Chinese headers only, real date-times, widths that fit."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import openpyxl
import pytest

from bench._seed import Seeded
from tests.dashboard.conftest import http_session
from tests.dashboard.test_access_matrix import (
    _base64_contents,
    _cases_inputs,
    _squad_inputs,
    callback_body,
    callback_map,
)

# (callback's first output, its input values, the date-time headers the sheet must hold)
EXPORTS: dict[str, tuple[str, Any, tuple[str, ...]]] = {
    "squad cases": (
        "squad-download.data",
        lambda s: _squad_inputs(s, **{"squad-export-cases.n_clicks": 1}),
        ("上报时间", "办结时间"),
    ),
    "squad ranking": ("squad-download.data", lambda s: _squad_inputs(s, **{"squad-export-ranked.n_clicks": 1}), ()),
    "case list": ("cases-download.data", lambda s: {"cases-export.n_clicks": 1, **_cases_inputs(s)}, ("上报时间",)),
    "review queue": (
        "cases-download.data",
        lambda s: {"cases-export.n_clicks": 1, **_cases_inputs(s, **{"cases-tabs.value": "review"})},
        ("上报时间",),
    ),
}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # e.g. segment_id, score, row_id


def _workbook(dash_app, dash_server: str, seeded: Seeded, name: str) -> openpyxl.Workbook:
    output, values, _ = EXPORTS[name]
    callbacks = callback_map(dash_app, dash_server)
    spec = callbacks[output]
    inputs = values(seeded)
    changed = next(k for k in inputs if k.endswith(".n_clicks"))
    body = callback_body(spec["key"], spec, inputs, changed)
    response = http_session(dash_server, "admin").post(f"{dash_server}/_dash-update-component", json=body, timeout=120)
    assert response.status_code == 200, response.text[:300]
    (content,) = _base64_contents(response.json())
    return openpyxl.load_workbook(io.BytesIO(base64.b64decode(content)))


@pytest.mark.parametrize("name", list(EXPORTS))
def test_every_export_has_chinese_headers_real_datetimes_and_fitting_widths(
    name: str, dash_app, dash_server, seeded: Seeded
) -> None:
    sheet = _workbook(dash_app, dash_server, seeded, name).active
    header = [c.value for c in sheet[1]]
    assert header and sheet.max_row > 1, name
    assert [h for h in header if IDENTIFIER.match(str(h))] == [], f"{name}: English headers {header}"
    assert all(re.search(r"[\u4e00-\u9fff]", str(h)) for h in header), header
    for title in EXPORTS[name][2]:
        cells = [row[header.index(title)] for row in sheet.iter_rows(min_row=2)]
        filled = [c for c in cells if c.value is not None]
        assert filled, f"{name}: no {title}"
        assert all(c.is_date and "yyyy-mm-dd" in c.number_format for c in filled), f"{name}: {title} is text"
    for position, title in enumerate(header, start=1):
        width = sheet.column_dimensions[sheet.cell(row=1, column=position).column_letter].width
        assert width >= 2 * len(str(title)), f"{name}: column {title} is {width} wide"
        if title in EXPORTS[name][2]:
            assert width >= len("2025-01-01 00:00"), f"{name}: {title} is {width} wide"


def test_the_ranking_export_holds_the_ranked_rows_without_ids(dash_app, dash_server, seeded: Seeded) -> None:
    sheet = _workbook(dash_app, dash_server, seeded, "squad ranking").active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["排名", "路段", "街路长", "案件"]
    assert not {"segment_id", "score", "row_id", "squad_code"} & set(header)
    ranks = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ranks == list(range(1, len(ranks) + 1))
