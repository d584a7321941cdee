"""``python -m etl geocode``: geocode addresses from stdin (one a line, or a CSV/XLSX column) to JSON lines.

The geocoder itself is :mod:`geo.geocode`; this command reads the input the way the ETL reads files.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import click

from geo.db import writer_engine


def _addresses(source: Path | None, column: str | None) -> list[str]:
    if column is None:
        stream = source.open(encoding="utf-8-sig") if source else sys.stdin
        return [line.rstrip("\r\n") for line in stream]
    import pandas as pd

    from etl.readers.encoding import detect_encoding
    from etl.readers.tabular import read_table

    if source is not None:
        frame = read_table(source).frame
    else:
        data = sys.stdin.buffer.read()
        frame = pd.read_csv(io.StringIO(data.decode(detect_encoding(data, "stdin"))), dtype=str, keep_default_na=False)
    if column not in frame.columns:
        raise click.ClickException(f"no column {column!r}; columns: {', '.join(map(str, frame.columns))}")
    return frame[column].astype(str).tolist()


@click.command("geocode")
@click.argument("source", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--column", help="Read SOURCE (or stdin) as CSV/XLSX and geocode this column.")
@click.option("--no-refresh", is_flag=True, help="Use the gazetteer table as it is (do not rebuild changed rows).")
def geocode(source: Path | None, column: str | None, no_refresh: bool) -> None:
    """Geocode addresses to JSON lines: input, lon, lat, level, score, township, village, matched, reason."""
    from geo.geocode import load_geocoder

    addresses = _addresses(source, column)
    engine = writer_engine()
    with engine.begin() as conn:
        geocoder = load_geocoder(conn, refresh=not no_refresh)
    out = sys.stdout
    for address in addresses:
        out.write(json.dumps(geocoder.geocode(address).as_dict(), ensure_ascii=False) + "\n")
