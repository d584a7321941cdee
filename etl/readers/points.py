"""CSV and XLSX tables with coordinates: lon/lat columns or a WKT column, as a layer of raw features.

The coordinate columns are found through the kind's column mapping (fields ``lon``, ``lat``,
``wkt``). A cell that is not a number or not WKT leaves that row without geometry and records
why, so the job can reject the row with the reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from etl.mapping import Mapping
from etl.readers.layer import Layer, geo_frame
from etl.readers.tabular import read_table
from geo.errors import InputError

TABLE_SUFFIXES = {".csv", ".tsv", ".xlsx", ".xls", ".xlsm"}  # not .txt: a folder's notes are no data


def _number(text: str) -> float | None:
    try:
        value = float(str(text).replace("，", ".").strip())
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def read_points(path: Path | str, mapping: Mapping, encoding: str | None = None) -> list[Layer]:
    """Rows of a CSV/XLSX table with geometry from the lon/lat (or WKT) columns named by ``mapping``.

    ``encoding`` is the CSV's declared encoding (``None``: detected). A row with a cell longer than
    the limit keeps that reason in the layer's ``problems`` (the job rejects it).

    Raises
    ------
    InputError
        When the file cannot be read, or has neither lon/lat nor WKT columns.
    """
    path = Path(path)
    table = read_table(path, encoding=encoding)
    frame = table.frame
    found = mapping.resolve(list(frame.columns))
    geoms: list = [None] * len(frame)
    problems: dict[int, str] = {}
    if "lon" in found and "lat" in found:
        lon_col, lat_col = found["lon"], found["lat"]
        for i, (x, y) in enumerate(zip(frame[lon_col], frame[lat_col], strict=True)):
            lon, lat = _number(x), _number(y)
            if lon is None or lat is None:
                problems[i] = f"coordinates are not numbers: {lon_col}={x!r}, {lat_col}={y!r}"
                continue
            geoms[i] = shapely.Point(lon, lat)
    elif "wkt" in found:
        column = found["wkt"]
        for i, text in enumerate(frame[column]):
            if not text:
                problems[i] = f"{column} is empty"
                continue
            try:
                geoms[i] = shapely.from_wkt(text)
            except shapely.errors.GEOSException as exc:
                problems[i] = f"{column} is not WKT: {exc}"
    else:
        wanted = [*mapping.fields.get("lon", ()), *mapping.fields.get("wkt", ())]
        raise InputError(
            f"cannot read {path}: no coordinate columns (lon/lat or WKT; expected e.g. {', '.join(wanted[:6])}); "
            f"headers: {', '.join(frame.columns)}"
        )
    problems.update(table.problems)
    layer_frame = geo_frame(pd.DataFrame(frame), geoms, first_row=table.first_data_row)
    return [Layer(layer_frame, str(path), None, table.encoding, problems)]
