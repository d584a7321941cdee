"""The one settings object of the project, read from the environment (and an optional ``.env``).

Every setting is documented here and in ``.env.example``; nothing else reads ``os.environ``
for configuration.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Typed settings; environment variable names are given in each field's ``alias``."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str | None = Field(
        default=None,
        alias="DATABASE_URL",
        description="PostgreSQL+PostGIS URL (postgresql://user:pass@host:5432/db). Unset: the "
        "project runs its own embedded cluster under var/.",
    )
    db_name: str = Field(default="egis", alias="EGIS_DB_NAME", description="Database name in the embedded cluster.")
    pg_port: int = Field(
        default=54329, alias="EGIS_PG_PORT", description="TCP port (127.0.0.1) of the embedded cluster."
    )
    pg_bindir: Path | None = Field(
        default=None, alias="EGIS_PG_BINDIR", description="PostgreSQL server binaries; found automatically if unset."
    )
    var_dir: Path = Field(
        default=PROJECT_ROOT / "var", alias="EGIS_VAR_DIR", description="Embedded cluster, logs and run files."
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "data",
        alias="EGIS_DATA_DIR",
        description="Where input files (e.g. the generated demo data) live.",
    )
    region_config: Path = Field(
        default=PROJECT_ROOT / "regions" / "wuyi" / "region.toml",
        alias="EGIS_REGION",
        description="The region (county) config file.",
    )
    dash_host: str = Field(default="127.0.0.1", alias="EGIS_DASH_HOST", description="Dashboard listen address.")
    dash_port: int = Field(default=8050, alias="EGIS_DASH_PORT", description="Dashboard port.")
    basemap: str = Field(
        default="offline",
        alias="EGIS_BASEMAP",
        description="'offline' (county, townships, streets drawn from PostGIS), 'tianditu', an XYZ tile "
        "URL template with {z}/{x}/{y}, or 'local:<folder>' of tiles served by the app.",
    )
    basemap_crs: str = Field(
        default="wgs84", alias="EGIS_BASEMAP_CRS", description="'wgs84' or 'gcj02' (data is shifted for GCJ-02 tiles)."
    )
    wall_refresh_s: int = Field(
        default=60, alias="EGIS_WALL_REFRESH_S", description="Seconds between refreshes of the wall display."
    )
    dash_cache_s: float = Field(
        default=60.0,
        alias="EGIS_DASH_CACHE_S",
        description="Seconds a dashboard process reuses a rendered layer for identical parameters and scope (0: off).",
    )
    reader_timeout_s: float = Field(
        default=15.0,
        alias="EGIS_READER_TIMEOUT_S",
        description="statement_timeout of the dashboard's read-only connections (egis_reader), seconds; a longer "
        "query is cancelled (0: no limit).",
    )
    wall_stale_hours: float = Field(
        default=26.0,
        alias="EGIS_WALL_STALE_HOURS",
        description="The wall warns that data is stale when the last successful import is older than this.",
    )
    tianditu_key: str | None = Field(default=None, alias="EGIS_TIANDITU_KEY", description="天地图 key (secret).")
    geocoder_online: str = Field(
        default="off",
        alias="EGIS_GEOCODER_ONLINE",
        description="'off' or 'tianditu': ask 天地图 (needs EGIS_TIANDITU_KEY; network) for addresses the "
        "offline gazetteer cannot place; answers are cached under var/geocode_cache.",
    )
    secret_key: str | None = Field(
        default=None, alias="EGIS_SECRET_KEY", description="Session signing key of the dashboard (secret)."
    )

    etl_max_file_mb: float = Field(
        default=512,
        gt=0,
        alias="EGIS_ETL_MAX_FILE_MB",
        description="Largest single input file (a plain file or one zip member, uncompressed) the ETL reads, MB.",
    )
    etl_max_archive_mb: float = Field(
        default=1024,
        gt=0,
        alias="EGIS_ETL_MAX_ARCHIVE_MB",
        description="Most a zip (with the zips inside it) may expand to in total, MB.",
    )
    etl_max_archive_ratio: float = Field(
        default=200,
        gt=1,
        alias="EGIS_ETL_MAX_ARCHIVE_RATIO",
        description="Highest compression ratio (uncompressed / compressed) of a zip member larger than 16 MB.",
    )
    etl_max_archive_members: int = Field(
        default=10_000, gt=0, alias="EGIS_ETL_MAX_ARCHIVE_MEMBERS", description="Most members a zip may hold."
    )
    etl_max_archive_depth: int = Field(
        default=2,
        ge=0,
        alias="EGIS_ETL_MAX_ARCHIVE_DEPTH",
        description="How deep zips inside zips are read (1: a zip in the input zip; 0: none).",
    )
    etl_max_field_chars: int = Field(
        default=65_536,
        gt=0,
        alias="EGIS_ETL_MAX_FIELD_CHARS",
        description="Longest cell (characters); a row with a longer one is rejected with the reason.",
    )
    etl_reject_raw_bytes: int = Field(
        default=4096,
        ge=256,
        alias="EGIS_ETL_REJECT_RAW_BYTES",
        description="A rejected row's raw content is stored cut to about this many bytes (with the hash and "
        "length of the whole).",
    )
    secure_cookies: bool = Field(
        default=False,
        alias="EGIS_SECURE_COOKIES",
        description="Mark the session cookie Secure (sent over HTTPS only) and send HSTS; turn on behind HTTPS.",
    )
    trusted_proxies: str = Field(
        default="",
        alias="EGIS_TRUSTED_PROXIES",
        description="Comma-separated addresses or CIDR blocks of the reverse proxies in front of the dashboard. "
        "Only a request from one of them has its client address taken from X-Forwarded-For; unset: the "
        "header is ignored and the connection's address is the client's.",
    )
    login_max_failures: int = Field(
        default=5,
        ge=0,
        alias="EGIS_LOGIN_MAX_FAILURES",
        description="Failed logins of one account within the window that lock the account (0: no account lock).",
    )
    login_max_failures_per_address: int = Field(
        default=30,
        ge=0,
        alias="EGIS_LOGIN_MAX_FAILURES_PER_ADDRESS",
        description="Failed logins from one client address within the window that lock the address (0: off).",
    )
    login_window_min: float = Field(
        default=15.0, gt=0, alias="EGIS_LOGIN_WINDOW_MIN", description="Minutes over which failed logins are counted."
    )
    login_lockout_min: float = Field(
        default=15.0, gt=0, alias="EGIS_LOGIN_LOCKOUT_MIN", description="Minutes an account or address stays locked."
    )

    api_host: str = Field(default="127.0.0.1", alias="EGIS_API_HOST", description="Ingest API listen address.")
    api_port: int = Field(default=8060, alias="EGIS_API_PORT", description="Ingest API port.")
    api_max_body_mb: float = Field(
        default=8.0, gt=0, alias="EGIS_API_MAX_BODY_MB", description="Largest ingest request body (MB); larger: 413."
    )
    api_max_batch: int = Field(
        default=5000, gt=0, alias="EGIS_API_MAX_BATCH", description="Most fixes or events in one ingest request."
    )
    api_rate_per_s: float = Field(
        default=20.0,
        gt=0,
        alias="EGIS_API_RATE_PER_S",
        description="Ingest requests per second one token may send (per API worker process), with bursts of "
        "twice as many; beyond: 429 with Retry-After.",
    )

    @field_validator("database_url")
    @classmethod
    def _empty_url_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("geocoder_online")
    @classmethod
    def _known_online_geocoder(cls, value: str) -> str:
        if value not in {"off", "tianditu"}:
            raise ValueError("EGIS_GEOCODER_ONLINE must be 'off' or 'tianditu'")
        return value

    @field_validator("basemap_crs")
    @classmethod
    def _known_basemap_crs(cls, value: str) -> str:
        if value not in {"wgs84", "gcj02"}:
            raise ValueError("EGIS_BASEMAP_CRS must be 'wgs84' or 'gcj02'")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxy_networks(cls, value: str) -> str:
        _networks(value)  # raises ValueError naming the bad entry
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The reverse proxies whose ``X-Forwarded-For`` is believed (``EGIS_TRUSTED_PROXIES``)."""
        return _networks(self.trusted_proxies)

    @property
    def embedded(self) -> bool:
        """True when the project runs its own PostGIS cluster (``DATABASE_URL`` unset)."""
        return self.database_url is None


def _networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    networks = []
    for entry in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"EGIS_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR block") from None
    return tuple(networks)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests call ``get_settings.cache_clear()``)."""
    return Settings()
