"""ORM models of everything the ETL loads and the layers read (SQLAlchemy 2 + GeoAlchemy2).

Geometries are stored in EPSG:4326; every loaded row records the CRS it arrived in
(``source_crs``) and the ETL run that wrote it (``run_id``). Tables are created by the Alembic
migrations in ``geo/migrations``, never by ``create_all``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ADMIN_LEVELS = ("county", "township", "village")
GEOCODE_LEVELS = ("门牌", "交叉口", "道路", "小区或地点", "村社区", "乡镇", "未匹配")
RUN_STATUSES = ("running", "succeeded", "failed", "skipped")


def geometry_column(kind: str, nullable: bool = True) -> Any:
    """A geometry column in the storage SRID; its GiST index is declared in ``__table_args__``."""
    return mapped_column(Geometry(kind, srid=SRID, spatial_index=False), nullable=nullable)


def gist(table: str, column: str = "geom") -> Index:
    """The GiST index of a geometry column."""
    return Index(f"ix_{table}_{column}_gist", column, postgresql_using="gist")


def trigram(table: str, column: str) -> Index:
    """A pg_trgm GIN index on a text column, which serves ``column ILIKE '%text%'``."""
    return Index(f"ix_{table}_{column}_trgm", column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def created_at() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# -- ETL bookkeeping ------------------------------------------------------------------------
class EtlRun(Base):
    """One run of one ETL job on one source; rows_read = rows_loaded + rows_rejected."""

    __tablename__ = "etl_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),
        CheckConstraint("status <> 'succeeded' OR rows_read = rows_loaded + rows_rejected", name="reconciled"),
        Index("ix_etl_runs_job_hash", "job", "source_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    source_path: Mapped[str] = mapped_column(Text)
    source_hash: Mapped[str | None] = mapped_column(String(64))
    source_crs: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[dt.datetime] = created_at()
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    rows_read: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(12), default="running", server_default="running")
    error: Mapped[str | None] = mapped_column(Text)
    backend_pid: Mapped[int | None] = mapped_column(Integer)  # server process of the loading transaction
    warnings: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    stats: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class EtlReject(Base):
    """A row that could not be loaded, with the reason and the raw content as read."""

    __tablename__ = "etl_rejects"
    __table_args__ = (Index("ix_etl_rejects_run_id", "run_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("etl_runs.id", ondelete="CASCADE"))
    source_file: Mapped[str] = mapped_column(Text)
    row_number: Mapped[int | None] = mapped_column(Integer)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(Text)
    # raw is cut to EGIS_ETL_REJECT_RAW_BYTES; length and hash are of the whole row (JSON text, UTF-8)
    raw_bytes: Mapped[int | None] = mapped_column(BigInteger)
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    raw_truncated: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class ChangeHistory(Base):
    """One field of one stored record changed by a load: old and new value, the run, the time (nothing is lost)."""

    __tablename__ = "change_history"
    __table_args__ = (
        Index("ix_change_history_record", "table_name", "record_key"),
        Index("ix_change_history_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))
    table_name: Mapped[str] = mapped_column(String(63))
    record_key: Mapped[str] = mapped_column(Text)  # the natural key, e.g. the case number
    field: Mapped[str] = mapped_column(String(63))
    old_value: Mapped[Any | None] = mapped_column(JSONB)  # JSON of the stored value (GeoJSON for geometries)
    new_value: Mapped[Any | None] = mapped_column(JSONB)
    changed_at: Mapped[dt.datetime] = created_at()


# -- administrative areas and squads --------------------------------------------------------
class AdminArea(Base):
    """County, township (乡镇/街道) or village/community (村/社区), with polygon and/or seat point."""

    __tablename__ = "admin_areas"
    __table_args__ = (
        CheckConstraint(f"level IN {ADMIN_LEVELS}", name="level"),
        Index("ix_admin_areas_parent_code", "parent_code"),
        gist("admin_areas"),
        gist("admin_areas", "seat"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str | None] = mapped_column(String(10))  # 县 / 街道 / 镇 / 乡 / 村 / 社区
    parent_code: Mapped[str | None] = mapped_column(String(12))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    approximate: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    geom: Mapped[WKBElement | None] = geometry_column("MULTIPOLYGON")
    seat: Mapped[WKBElement | None] = geometry_column("POINT")
    area_km2: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(Text)
    source_crs: Mapped[str | None] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class Squad(Base):
    """One of the bureau's squads (中队), with its station."""

    __tablename__ = "squads"
    __table_args__ = (gist("squads", "station"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    short_name: Mapped[str | None] = mapped_column(Text)
    township_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    station: Mapped[WKBElement | None] = geometry_column("POINT")
    station_address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    officers: Mapped[int | None] = mapped_column(Integer)
    source_crs: Mapped[str | None] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class Jurisdiction(Base):
    """A squad's jurisdiction (辖区) polygon; each load is a new version, one version is current."""

    __tablename__ = "jurisdictions"
    __table_args__ = (
        UniqueConstraint("version", "squad_code"),
        Index("ix_jurisdictions_current", "squad_code", postgresql_where="is_current"),
        gist("jurisdictions"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    squad_code: Mapped[str] = mapped_column(ForeignKey("squads.code", onupdate="CASCADE"))
    name: Mapped[str | None] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    geom: Mapped[WKBElement] = geometry_column("MULTIPOLYGON", nullable=False)
    area_km2: Mapped[float | None] = mapped_column(Float)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    source_crs: Mapped[str | None] = mapped_column(String(40))
    loaded_at: Mapped[dt.datetime] = created_at()
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


# -- streets, places, chiefs ----------------------------------------------------------------
class StreetSegment(Base):
    """A street segment between junctions, with door-number ranges by side (left/right of digitising)."""

    __tablename__ = "street_segments"
    __table_args__ = (
        Index("ix_street_segments_name", "name"),
        Index("ix_street_segments_township_code", "township_code"),
        gist("street_segments"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_key: Mapped[str] = mapped_column(Text, unique=True)  # natural key from the source
    name: Mapped[str | None] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    road_class: Mapped[str | None] = mapped_column(String(20))
    township_code: Mapped[str | None] = mapped_column(String(12))
    squad_code: Mapped[str | None] = mapped_column(String(20))
    left_from: Mapped[int | None] = mapped_column(Integer)
    left_to: Mapped[int | None] = mapped_column(Integer)
    right_from: Mapped[int | None] = mapped_column(Integer)
    right_to: Mapped[int | None] = mapped_column(Integer)
    length_m: Mapped[float | None] = mapped_column(Float)
    # One-way streets: 'FT' only in digitising direction, 'TF' only against it, NULL both ways.
    oneway: Mapped[str | None] = mapped_column(String(2))
    geom: Mapped[WKBElement] = geometry_column("LINESTRING", nullable=False)
    source_crs: Mapped[str | None] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


BASEMAP_LAYERS = ("water", "green", "building")  # extra reference layers, drawn in this order (under the names)


class BasemapFeature(Base):
    """A feature of an extra reference layer of the basemap (water, building, green space …), drawn under
    the names; a load of a layer replaces that layer."""

    __tablename__ = "basemap_features"
    __table_args__ = (Index("ix_basemap_features_layer", "layer"), gist("basemap_features"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feature_key: Mapped[str] = mapped_column(Text, unique=True)
    layer: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = geometry_column("GEOMETRY", nullable=False)
    source_crs: Mapped[str | None] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class Place(Base):
    """A named place: residential compound (小区), market, school, hospital, construction site …"""

    __tablename__ = "places"
    __table_args__ = (Index("ix_places_name", "name"), gist("places"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    place_key: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    kind: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(Text)
    township_code: Mapped[str | None] = mapped_column(String(12))
    village_code: Mapped[str | None] = mapped_column(String(12))
    geom: Mapped[WKBElement] = geometry_column("POINT", nullable=False)
    source_crs: Mapped[str | None] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class StreetChief(Base):
    """A street chief (街路长), responsible for named streets."""

    __tablename__ = "street_chiefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    squad_code: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str | None] = mapped_column(Text)  # e.g. 街长 / 路长 / 巷长
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class ChiefSegment(Base):
    """Which segments a street chief is responsible for."""

    __tablename__ = "chief_segments"
    __table_args__ = (Index("ix_chief_segments_segment_id", "segment_id"),)

    chief_id: Mapped[int] = mapped_column(ForeignKey("street_chiefs.id", ondelete="CASCADE"), primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("street_segments.id", ondelete="CASCADE"), primary_key=True)
    street_name: Mapped[str | None] = mapped_column(Text)


# -- cases ----------------------------------------------------------------------------------
class Case(Base):
    """An enforcement case (案件) from the provincial case system; the case number is the natural key."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"geocode_level IN {GEOCODE_LEVELS}", name="geocode_level"),
        Index("ix_cases_received_at", "received_at"),
        Index("ix_cases_squad_code_received_at", "squad_code", "received_at"),
        Index("ix_cases_category", "category"),
        Index("ix_cases_due_at", "due_at"),  # 按期办结率: cases due in a window
        Index("ix_cases_unmatched", "id", postgresql_where="geocode_level = '未匹配'"),
        Index("ix_cases_near_segment_id_received_at", "near_segment_id", "received_at"),
        Index("ix_cases_updated_at", "updated_at"),  # the live maps' change token: newest case change
        gist("cases"),
        # The case search (``ILIKE '%text%'``, layers/case_records.py) on pg_trgm trigram indexes.
        *(trigram("cases", column) for column in ("case_number", "address", "description", "category")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str | None] = mapped_column(Text)  # 案由/类别
    domain: Mapped[str | None] = mapped_column(Text)  # enforcement domain, e.g. 市容环卫
    procedure_type: Mapped[str | None] = mapped_column(Text)  # 一般程序 / 简易程序 / 重大案件 / 投诉举报
    source: Mapped[str | None] = mapped_column(Text)  # 发现方式
    status: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement | None] = geometry_column("POINT")
    geocode_level: Mapped[str] = mapped_column(String(10), default="未匹配", server_default="未匹配")
    geocode_score: Mapped[float | None] = mapped_column(Float)
    geocode_matched: Mapped[str | None] = mapped_column(Text)
    township_code: Mapped[str | None] = mapped_column(String(12))
    village_code: Mapped[str | None] = mapped_column(String(12))
    source_crs: Mapped[str | None] = mapped_column(String(40))
    reported_squad: Mapped[str | None] = mapped_column(Text)  # 所属中队 as exported
    squad_code: Mapped[str | None] = mapped_column(String(20))  # from point-in-jurisdiction
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("street_segments.id", ondelete="SET NULL"))  # geocoder's
    # The segment the case counts on (nearest within [analysis] case_segment_max_m), geo/case_segments.py.
    near_segment_id: Mapped[int | None] = mapped_column(ForeignKey("street_segments.id", ondelete="SET NULL"))
    near_segment_m: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    time_limit: Mapped[str | None] = mapped_column(Text)  # e.g. "5个工作日"
    party_name: Mapped[str | None] = mapped_column(Text)  # personal data: masked in views
    party_phone: Mapped[str | None] = mapped_column(Text)
    party_id_number: Mapped[str | None] = mapped_column(Text)
    complainant_name: Mapped[str | None] = mapped_column(Text)
    complainant_phone: Mapped[str | None] = mapped_column(Text)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


# -- sanitation -----------------------------------------------------------------------------
class SanitationRoute(Base):
    """A planned sweeping / collection route (清扫路线) with its vehicle, crew and schedule."""

    __tablename__ = "sanitation_routes"
    __table_args__ = (gist("sanitation_routes"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    vehicle: Mapped[str | None] = mapped_column(Text)
    crew: Mapped[str | None] = mapped_column(Text)
    schedule: Mapped[str | None] = mapped_column(Text)
    squad_code: Mapped[str | None] = mapped_column(String(20))
    length_m: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[WKBElement] = geometry_column("MULTILINESTRING", nullable=False)
    source_crs: Mapped[str | None] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class RouteSegment(Base):
    """Street segments a sanitation route is planned to cover."""

    __tablename__ = "route_segments"
    __table_args__ = (Index("ix_route_segments_segment_id", "segment_id"),)

    route_id: Mapped[int] = mapped_column(ForeignKey("sanitation_routes.id", ondelete="CASCADE"), primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("street_segments.id", ondelete="CASCADE"), primary_key=True)


# -- GPS ------------------------------------------------------------------------------------
class GpsFix(Base):
    """One GPS fix of a street chief on patrol or a sanitation vehicle, after cleaning.

    Partitioned by day on ``ts`` (pg_partman, ``geo/partitions.py``), so ``ts`` is part of the
    primary key; every query should constrain ``ts`` to its window.
    """

    __tablename__ = "gps_fixes"
    __table_args__ = (
        CheckConstraint("subject_kind IN ('patrol', 'sanitation')", name="subject_kind"),
        UniqueConstraint("subject_kind", "subject_id", "ts"),
        Index("ix_gps_fixes_ts", "ts"),
        Index("ix_gps_fixes_segment_id", "segment_id"),
        gist("gps_fixes"),
        {"postgresql_partition_by": "RANGE (ts)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[str] = mapped_column(String(64))  # chief code or vehicle plate
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    geom: Mapped[WKBElement] = geometry_column("POINT", nullable=False)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    trip_id: Mapped[int | None] = mapped_column(Integer)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("street_segments.id", ondelete="SET NULL"))
    match_distance_m: Mapped[float | None] = mapped_column(Float)
    source_crs: Mapped[str | None] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class Device(Base):
    """Who held a vendor device (IMEI, 执法记录仪 serial) when: a fix maps to the holder at the fix's time.

    Device ids match case-insensitively (like usernames); a handover closes the previous holder's
    row (``valid_to``) where the next one starts, so the history stays. One open row per device.
    """

    __tablename__ = "devices"
    __table_args__ = (
        CheckConstraint("subject_kind IN ('patrol', 'sanitation')", name="subject_kind"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_span"),
        Index("uq_devices_device_from", text("lower(device_id)"), "valid_from", unique=True),
        Index(
            "uq_devices_device_open", text("lower(device_id)"), unique=True, postgresql_where=text("valid_to IS NULL")
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[str] = mapped_column(String(64))  # chief code or vehicle plate
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(Text)  # who registered it: cli, a file, a vendor
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class DutyRoster(Base):
    """One duty period of an officer (排班): on its local day the roster, not the config shifts, says who is on duty."""

    __tablename__ = "duty_roster"
    __table_args__ = (
        UniqueConstraint("chief_code", "duty_date", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="span"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chief_code: Mapped[str] = mapped_column(String(40))
    duty_date: Mapped[dt.date] = mapped_column(Date)  # the local day the period starts on
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # past midnight for a night shift
    squad_code: Mapped[str | None] = mapped_column(String(20))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class SegmentVisit(Base):
    """A continuous stay of one subject on one segment: the fact table of coverage."""

    __tablename__ = "segment_visits"
    __table_args__ = (
        CheckConstraint("subject_kind IN ('patrol', 'sanitation')", name="subject_kind"),
        Index("ix_segment_visits_segment_entered", "segment_id", "entered_at"),
        Index("ix_segment_visits_subject_entered", "subject_kind", "subject_id", "entered_at"),
        Index("ix_segment_visits_kind_entered", "subject_kind", "entered_at"),  # coverage in a time window
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("street_segments.id", ondelete="CASCADE"))
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[str] = mapped_column(String(64))
    trip_id: Mapped[int | None] = mapped_column(Integer)
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    left_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    dwell_s: Mapped[float] = mapped_column(Float)
    n_fixes: Mapped[int] = mapped_column(Integer)


# -- routing graph and patrol plans ---------------------------------------------------------
PLAN_STATUSES = ("draft", "approved")


class RouteGraphBuild(Base):
    """One build of the routing graph from the street segments; ``source_key`` says which streets."""

    __tablename__ = "route_graph_builds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_key: Mapped[str] = mapped_column(Text)  # streets' last run, count and id range when built
    built_at: Mapped[dt.datetime] = created_at()
    nodes: Mapped[int] = mapped_column(Integer)
    edges: Mapped[int] = mapped_column(Integer)
    components: Mapped[int] = mapped_column(Integer)  # connected pieces (undirected)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class RouteGraphNode(Base):
    """A node of the routing graph: a segment end or a crossing of two segments."""

    __tablename__ = "route_graph_nodes"
    __table_args__ = (gist("route_graph_nodes"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    component: Mapped[int] = mapped_column(Integer)  # connected piece it belongs to (1 = largest)
    geom: Mapped[WKBElement] = geometry_column("POINT", nullable=False)


class RouteGraphEdge(Base):
    """A piece of a street segment between two nodes, in the segment's digitising direction.

    ``cost`` / ``reverse_cost`` are the length in metres (EPSG:4549), −1 where one-way forbids it
    (the pgRouting convention).
    """

    __tablename__ = "route_graph_edges"
    __table_args__ = (Index("ix_route_graph_edges_segment_id", "segment_id"), gist("route_graph_edges"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    segment_id: Mapped[int] = mapped_column(ForeignKey("street_segments.id", ondelete="CASCADE"))
    part: Mapped[int] = mapped_column(Integer)  # order along the segment, from 0
    source: Mapped[int] = mapped_column(BigInteger)
    target: Mapped[int] = mapped_column(BigInteger)
    length_m: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    reverse_cost: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = geometry_column("LINESTRING", nullable=False)


class PatrolPlan(Base):
    """A squad's patrol plan for one date and shift; its versions hold the routes."""

    __tablename__ = "patrol_plans"
    __table_args__ = (
        CheckConstraint(f"status IN {PLAN_STATUSES}", name="status"),
        Index("ix_patrol_plans_squad_date", "squad_code", "plan_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    squad_code: Mapped[str] = mapped_column(String(20))
    plan_date: Mapped[dt.date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default="draft", server_default="draft")
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_at()


class PatrolPlanVersion(Base):
    """One version of a plan (each adjustment is a new version), with who made and who approved it."""

    __tablename__ = "patrol_plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plans.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_at()
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")  # planner inputs
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")  # figures, messages


class PatrolPlanRoute(Base):
    """One chief's route in a plan version: the path drawn along the network, its length and duration."""

    __tablename__ = "patrol_plan_routes"
    __table_args__ = (UniqueConstraint("version_id", "chief_code"), gist("patrol_plan_routes"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("patrol_plan_versions.id", ondelete="CASCADE"))
    chief_code: Mapped[str] = mapped_column(String(40))
    length_m: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    start_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    geom: Mapped[WKBElement | None] = geometry_column("MULTILINESTRING")


class PatrolPlanStop(Base):
    """A segment to patrol, in order, on one chief's route; the segment key survives a deleted segment."""

    __tablename__ = "patrol_plan_stops"
    __table_args__ = (
        UniqueConstraint("version_id", "chief_code", "seq"),
        Index("ix_patrol_plan_stops_segment_id", "segment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("patrol_plan_versions.id", ondelete="CASCADE"))
    chief_code: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("street_segments.id", ondelete="SET NULL"))
    segment_key: Mapped[str] = mapped_column(Text)
    segment_name: Mapped[str | None] = mapped_column(Text)
    reversed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")  # walked against digitising
    arrive_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    leave_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    prize: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")  # why it was chosen


# -- gazetteer ------------------------------------------------------------------------------
class GazetteerEntry(Base):
    """A name the geocoder can match: admin area, street, place or address point."""

    __tablename__ = "gazetteer"
    __table_args__ = (
        CheckConstraint("kind IN ('county', 'township', 'village', 'street', 'place', 'address_point')", name="kind"),
        UniqueConstraint("kind", "ref_key", "name"),
        Index("ix_gazetteer_name", "name"),
        gist("gazetteer"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)  # normalised name or alias
    canonical: Mapped[str] = mapped_column(Text)  # the official name it stands for
    ref_key: Mapped[str] = mapped_column(Text)  # code / segment_key / place_key of the source row
    township_code: Mapped[str | None] = mapped_column(String(12))
    village_code: Mapped[str | None] = mapped_column(String(12))
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=False))
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    source_version: Mapped[str | None] = mapped_column(Text)  # hash of the source row, for incremental rebuilds


class AddressPoint(Base):
    """An address placed by a person (an admin fixing a case's address): the geocoder matches it exactly.

    The gazetteer reads this table as ``address_point`` entries (:mod:`geo.geocode.gazetteer`), so the
    next import of the same address lands on this point without review.
    """

    __tablename__ = "address_points"
    __table_args__ = (gist("address_points"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point_key: Mapped[str] = mapped_column(Text, unique=True)  # the address as the geocoder looks it up
    address: Mapped[str] = mapped_column(Text)
    township_code: Mapped[str | None] = mapped_column(String(12))
    geom: Mapped[WKBElement] = geometry_column("POINT", nullable=False)
    source: Mapped[str] = mapped_column(String(20))  # manual (placed on the map) / manual_regeocode
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_at()


# -- warnings -------------------------------------------------------------------------------
WARNING_STATUSES = ("new", "acknowledged", "resolved")
WARNING_SEVERITIES = ("info", "warning", "critical")


class WarningEvent(Base):
    """An automatic warning (预警) raised by a rule of ``alerts/``; at most one open per rule and subject.

    ``title`` is a Chinese line without personal data (the wall shows it); ``subject_kind`` is
    ``case``, ``segment``, ``officer``, ``device``, ``route`` or ``cell``.
    """

    __tablename__ = "warnings"
    __table_args__ = (
        CheckConstraint(f"status IN {WARNING_STATUSES}", name="status"),
        CheckConstraint(f"severity IN {WARNING_SEVERITIES}", name="severity"),
        Index(
            "uq_warnings_open_rule_subject",
            "rule",
            "subject_kind",
            "subject_id",
            unique=True,
            postgresql_where="status <> 'resolved'",
        ),
        Index("ix_warnings_squad_code_raised_at", "squad_code", "raised_at"),
        Index("ix_warnings_open", "raised_at", postgresql_where="status <> 'resolved'"),
        gist("warnings"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(64))
    squad_code: Mapped[str | None] = mapped_column(String(20))
    segment_id: Mapped[int | None] = mapped_column(Integer)  # the street it is on, for a street chief's list
    title: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    geom: Mapped[WKBElement | None] = geometry_column("POINT")
    raised_at: Mapped[dt.datetime] = created_at()
    last_seen_at: Mapped[dt.datetime] = created_at()
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# -- access control -------------------------------------------------------------------------
ROLES = ("admin", "command_center", "squad_leader", "street_chief", "viewer")


class User(Base):
    """A dashboard user; the password is stored only as an argon2 hash."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role"),
        CheckConstraint("role <> 'squad_leader' OR squad_code IS NOT NULL", name="squad_leader_has_squad"),
        CheckConstraint("role <> 'street_chief' OR chief_code IS NOT NULL", name="street_chief_has_chief"),
        # Usernames are case-insensitive: one user per lower-cased name (migration 1303).
        Index("uq_users_username_lower", text("lower(username)"), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    squad_code: Mapped[str | None] = mapped_column(String(20))
    chief_code: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[dt.datetime] = created_at()
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class KioskToken(Base):
    """A long-lived token that lets one wall screen open /wall read-only (stored hashed)."""

    __tablename__ = "kiosk_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = created_at()
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


INGEST_KINDS = ("gps", "cases")
CASE_EVENT_STAGES = ("received", "dispatched", "arrived", "closed")


class IngestToken(Base):
    """A bearer token of one source (a vendor platform, the province system) for the ingest API (stored hashed)."""

    __tablename__ = "ingest_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    kinds: Mapped[list[str]] = mapped_column(ARRAY(Text))  # what the source may send: gps, cases
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = created_at()
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CaseEvent(Base):
    """One case event received by the ingest API; the key (case, stage, time) makes a re-sent event a duplicate."""

    __tablename__ = "case_events"
    __table_args__ = (
        CheckConstraint(f"stage IN {CASE_EVENT_STAGES}", name="stage"),
        UniqueConstraint("case_number", "stage", "event_time"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(12))
    event_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = created_at()
    run_id: Mapped[int | None] = mapped_column(ForeignKey("etl_runs.id", ondelete="SET NULL"))


class AuditEntry(Base):
    """Who did what when: logins, exports, views of personal data."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_ts", "ts"), Index("ix_audit_log_username_ts", "username", "ts"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class UserSession(Base):
    """A login session of a user; the browser holds the token, only its hash is stored here.

    Deleting the row ends the session at once in every worker (logout, new password, disabled
    user, changed role).
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"), Index("ix_user_sessions_expires_at", "expires_at"))

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = created_at()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """One failed login (wrong password or unknown user), counted for the lockout; kept one window long."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_ts", "username", "ts"),
        Index("ix_login_failures_remote_addr_ts", "remote_addr", "ts"),
        Index("ix_login_failures_ts", "ts"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    username: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64))


class LoginLock(Base):
    """A temporary login lock of an account or a client address (``kind`` 'account' or 'address')."""

    __tablename__ = "login_locks"
    __table_args__ = (CheckConstraint("kind IN ('account', 'address')", name="kind"),)

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
