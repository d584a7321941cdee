"""Offline Chinese address geocoder: gazetteer from the loaded data, normaliser, parser, matcher."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from geo.geocode.gazetteer import RefreshStats, refresh_gazetteer
from geo.geocode.index import GazetteerIndex
from geo.geocode.match import Geocoder, GeocodeResult
from geo.region import Region, get_region
from geo.settings import get_settings

__all__ = ["GazetteerIndex", "GeocodeResult", "Geocoder", "RefreshStats", "load_geocoder", "refresh_gazetteer"]


def load_geocoder(conn: Connection, region: Region | None = None, *, refresh: bool = True) -> Geocoder:
    """A geocoder over what is loaded: refresh the gazetteer table (incrementally), then index it in memory.

    Parameters
    ----------
    conn
        A connection; with ``refresh`` it must be inside a transaction the caller commits.
    region
        The region config (the configured one by default).
    refresh
        Bring the ``gazetteer`` table up to date with its sources first.
    """
    if refresh:
        refresh_gazetteer(conn)
    settings = get_settings()
    online = None
    if settings.geocoder_online == "tianditu":
        from geo.geocode.online import TiandituGeocoder

        online = TiandituGeocoder(settings.tianditu_key, settings.var_dir / "geocode_cache")
    return Geocoder(GazetteerIndex.from_connection(conn, region or get_region()), online=online)
