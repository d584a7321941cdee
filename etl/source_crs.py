"""Which CRS an input is in (command line > source.toml > the file's own > default), and conversion to storage."""

from __future__ import annotations

import numpy as np
from pyproj import CRS

from etl.declared import declared
from geo.crs import OFFSET_CRS, normalize_crs, transform_geometry
from geo.errors import ConfigError

WGS84 = "EPSG:4326"


def declared_crs(cli_crs: str | None, config: dict) -> str | None:
    """The CRS declared for a file: ``--crs`` wins over ``crs`` in its ``source.toml``; ``None`` if neither."""
    return declared("crs", cli_crs, config, normalize_crs)


def input_crs(
    cli_crs: str | None, config: dict, embedded: str | None = None, *, source: str, default: str = WGS84
) -> str:
    """The CRS to read an input in: ``--crs`` > ``crs`` in ``source.toml`` > the file's own > ``default``.

    The one precedence for every job (features, cases, GPS); see :mod:`etl.declared`.

    Parameters
    ----------
    cli_crs
        ``--crs`` from the command line, or None.
    config
        The ``source.toml`` settings that apply to the file.
    embedded
        The file's own CRS (a ``.prj``, a GeoPackage's SRS), or None (tables have none).
    source
        The file as named in messages.
    default
        The CRS of coordinates nothing declares (WGS-84; GCJ-02 for phone-app case exports).

    Raises
    ------
    ConfigError
        When a declared CRS is unknown, or an offset is declared for a file in a projected CRS.
    """
    return resolve_crs(declared_crs(cli_crs, config), embedded, source, default)


def is_geographic(crs: str) -> bool:
    """True for lon/lat CRS (including the GCJ-02 and BD-09 offsets)."""
    return crs in OFFSET_CRS or CRS.from_user_input(crs).is_geographic


def resolve_crs(declared: str | None, embedded: str | None, source: str, default: str = WGS84) -> str:
    """The CRS to read a layer in: the declared one, else the file's own, else ``default``.

    Raises
    ------
    ConfigError
        When an offset (GCJ-02/BD-09, which are lon/lat) is declared for a file in a projected CRS.
    """
    if declared is None:
        return embedded or normalize_crs(default)
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
