"""Property-based fuzzing of the tabular reader: any bytes give a table or a clear InputError, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.mapping import load_mapping
from etl.readers.tabular import read_table
from geo.errors import InputError

CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".xlsx", ".tsv"]))
def test_any_bytes_read_or_fail_cleanly(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            table = read_table(path)
        except InputError as exc:
            assert str(path) in str(exc)
            return
        assert all(isinstance(c, str) for c in table.frame.columns)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=8),
    encoding=st.sampled_from(["utf-8-sig", "gb18030", "utf-8"]),
)
def test_every_row_of_a_csv_comes_back(rows: list[list[str]], encoding: str) -> None:
    header = ["案件编号", "地址", "备注"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.csv"
        import csv

        with open(path, "w", encoding=encoding, newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
        # random characters are no plausible Chinese text: GB18030 is declared rather than detected here
        table = read_table(path, encoding="gb18030" if encoding == "gb18030" else None)
        mapped = load_mapping("cases").apply(table.frame, str(path))
        expected = [[cell.strip() for cell in row] for row in rows]
        assert mapped[["case_number", "address", "备注"]].values.tolist() == expected
