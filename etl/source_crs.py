"""Which CRS a layer's coordinates are in (command line > source.toml > the file's own), and conversion to storage."""

from __future__ import annotations

import numpy as np
from pyproj import CRS

from geo.crs import OFFSET_CRS, normalize_crs, transform_geometry
from geo.errors import ConfigError


def declared_crs(cli_crs: str | None, config: dict) -> str | None:
    """The CRS declared for a file: ``--crs`` wins over ``crs`` in its ``source.toml``; ``None`` if neither."""
    if cli_crs:
        return normalize_crs(cli_crs)
    if config.get("crs"):
        try:
            return normalize_crs(config["crs"])
        except ConfigError as exc:
            raise ConfigError(f"{config.get('_file', 'source.toml')}: {exc}") from exc
    return None


def is_geographic(crs: str) -> bool:
    """True for lon/lat CRS (including the GCJ-02 and BD-09 offsets)."""
    return crs in OFFSET_CRS or CRS.from_user_input(crs).is_geographic


def resolve_crs(declared: str | None, embedded: str | None, source: str) -> str:
    """The CRS to read a layer in: the declared one, else the file's own, else WGS-84.

    Raises
    ------
    ConfigError
        When an offset (GCJ-02/BD-09, which are lon/lat) is declared for a file in a projected CRS.
    """
    if declared is None:
        return embedded or "EPSG:4326"
    if embedded is not None and declared in OFFSET_CRS and not is_geographic(embedded):
        raise ConfigError(
            f"{source}: {declared} was declared but the file is in the projected {embedded}; "
            "GCJ-02/BD-09 apply to lon/lat coordinates only"
        )
    return declared


def to_storage(geoms: np.ndarray, crs: str) -> np.ndarray:
    """Geometries in ``crs`` converted to WGS-84 (the storage SRID); EPSG:4490 is taken as equal."""
    geoms = np.asarray(geoms, dtype=object)
    if crs in {"EPSG:4326", "EPSG:4490"}:
        return geoms
    return transform_geometry(geoms, crs)
