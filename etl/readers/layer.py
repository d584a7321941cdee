"""What every geo reader returns: one layer of raw features with its source, CRS and file row numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


@dataclass
class Layer:
    """Raw features of one file (or one layer of a multi-layer file), as read.

    Attributes
    ----------
    frame
        Attribute columns under their headers in the file, ``geometry`` in the source CRS (``None``
        where a row has none) and ``_row``, the 1-based row (feature) number in the file.
    source
        The file, plus ``#layer`` for files with several layers; rejects name it.
    crs
        The CRS the file declares (``.prj``, embedded, KML/GPX are WGS-84), normalised; ``None`` if none.
    encoding
        Text encoding of the attributes where the reader had to decide it.
    problems
        Per row (by frame index), why the row cannot be loaded: its geometry could not be built
        (e.g. non-numeric 经度) or a cell is longer than the limit (:mod:`etl.readers.limits`).
    """

    frame: gpd.GeoDataFrame
    source: str
    crs: str | None = None
    encoding: str | None = None
    problems: dict[Any, str] | None = None

    def raw(self, index: Any) -> dict[str, Any]:
        """The raw row at frame index ``index``: attributes as read and the geometry as WKT (source CRS)."""
        row = self.frame.loc[index]
        raw: dict[str, Any] = {}
        for column, value in row.items():
            if column in ("geometry", "_row"):
                continue
            raw[str(column)] = _plain(value)
        geom = row.get("geometry")
        if geom is not None and not (isinstance(geom, float) and np.isnan(geom)):
            raw["geometry"] = shapely.to_wkt(geom, rounding_precision=7)  # cut when stored (etl.runs.stored_raw)
        return raw


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def geo_frame(frame: pd.DataFrame, geometry: Any, first_row: int = 1) -> gpd.GeoDataFrame:
    """A GeoDataFrame (no CRS; the CRS travels on the :class:`Layer`) with a ``_row`` column."""
    out = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=gpd.GeoSeries(list(geometry)), crs=None)
    out["_row"] = np.arange(first_row, first_row + len(out))
    return out
