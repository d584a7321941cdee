"""Shared fixtures: a separate test database on the real PostGIS, and isolation per test.

At session start the tests point ``DATABASE_URL`` at ``<name>_test`` (in the embedded cluster,
or on the external server when ``DATABASE_URL`` was set), so nothing a test does touches the
demo data, and command-line programs started by tests use the test database too.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, Connection

from geo.db import get_engine, normalize_url
from geo.db.migrate import upgrade
from geo.db.roles import ensure_roles
from geo.db.setup import sibling_database
from geo.region import Region, get_region
from geo.settings import get_settings


def _test_database_url() -> URL:
    settings = get_settings()
    name = settings.db_name if settings.embedded else normalize_url(settings.database_url).database
    return sibling_database(f"{name}_test")


@pytest.fixture(scope="session")
def test_url() -> Iterator[URL]:
    """URL of the migrated test database; also exported as DATABASE_URL for the session."""
    url = _test_database_url()
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
    get_settings.cache_clear()
    yield url
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def engine(test_url: URL) -> Engine:
    """Engine on the test database."""
    return get_engine(test_url)


@pytest.fixture
def db(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@contextmanager
def migrated_schema(test_url: URL, prefix: str = "t") -> Iterator[URL]:
    """Create a migrated schema, yield a URL whose ``search_path`` is it, drop it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = get_engine(test_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = test_url.update_query_dict({"options": f"-csearch_path={schema},public"})
    try:
        upgrade(get_engine(url))
        ensure_roles(get_engine(url))
        yield url
    finally:
        get_engine(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            # pg_partman's registry of partitioned tables is database-wide (schema partman)
            conn.execute(text("DELETE FROM partman.part_config WHERE parent_table LIKE :p"), {"p": f"{schema}.%"})
            for template in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'partman' AND tablename LIKE :t"),
                {"t": f"template_{schema}_%"},
            ).scalars():
                conn.execute(text(f'DROP TABLE partman."{template}"'))


@pytest.fixture
def schema_url(test_url: URL) -> Iterator[URL]:
    """A fresh, migrated schema of its own (for tests that commit, or run command-line programs).

    The URL sets ``search_path`` to the schema, so everything using it — including subprocesses
    given it as DATABASE_URL — sees only this schema's tables. Dropped after the test.
    """
    with migrated_schema(test_url) as url:
        yield url


@pytest.fixture
def schema_engine(schema_url: URL) -> Engine:
    """Engine on a fresh schema of its own."""
    return get_engine(schema_url)


@pytest.fixture(scope="session")
def region() -> Region:
    """The configured region (Wuyi)."""
    return get_region()


def calendar_block(config: str, year: int) -> str:
    """The ``[calendar.<year>]`` section of a region config's text ("" when there is none)."""
    found = re.search(rf"^\[calendar\.{year}\]\n(?:(?!\[).*\n?)*", config, flags=re.MULTILINE)
    return found.group(0) if found else ""


@pytest.fixture
def region_lacking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Region]]:
    """Make the configured region (``EGIS_REGION``) a copy of Wuyi's whose calendar lacks the given years.

    ``region_lacking(2025)`` returns the copy; its folder is the copy's own, so a test can edit
    its ``region.toml`` (add the year back). The real region is configured again afterwards.
    """

    def make(*years: int) -> Region:
        folder = tmp_path / ("region-" + "-".join(str(y) for y in years))
        shutil.copytree(get_region().path.parent, folder)
        config = folder / "region.toml"
        text_ = config.read_text(encoding="utf-8")
        for year in years:
            block = calendar_block(text_, year)
            assert block, f"the region config has no [calendar.{year}]"
            text_ = text_.replace(block, "")
        config.write_text(text_, encoding="utf-8")
        monkeypatch.setenv("EGIS_REGION", str(config))
        get_settings.cache_clear()
        lacking = get_region()
        assert not any(lacking.calendar.covers(y) for y in years)
        return lacking

    yield make
    monkeypatch.delenv("EGIS_REGION", raising=False)
    get_settings.cache_clear()


# -- a small gazetteer world for the geocoder and case ETL tests ----------------------------
SAMPLE_SEGMENTS = [
    # key, name, aliases, township, (left_from, left_to, right_from, right_to), WKT (WGS-84)
    ("S1", "解放街", [], "330723003", (1, 49, 2, 50), "LINESTRING(119.800 28.890, 119.810 28.890)"),
    ("S2", "解放街", [], "330723003", (51, 99, 52, 100), "LINESTRING(119.810 28.890, 119.820 28.890)"),
    ("S3", "壶山下街", [], "330723003", (1, 39, 2, 40), "LINESTRING(119.810 28.880, 119.810 28.900)"),
    ("S4", "熟溪路", ["老熟溪路"], "330723003", (1, 99, 2, 100), "LINESTRING(119.800 28.880, 119.820 28.880)"),
    ("S5", "武阳路", [], "330723001", (1, 99, 2, 100), "LINESTRING(119.815 28.905, 119.830 28.905)"),
    ("S6", "解放街", [], "330723102", (1, 99, 2, 100), "LINESTRING(119.860 28.960, 119.870 28.960)"),
]
SAMPLE_PLACES = [
    # key, name, aliases, kind, township, village, (lon, lat)
    ("P1", "阳光小区", ["阳光花园"], "小区", "330723003", None, (119.805, 28.895)),
    ("P2", "农贸市场", [], "市场", "330723003", None, (119.815, 28.885)),
    ("P3", "农贸市场", [], "市场", "330723102", None, (119.865, 28.962)),
    ("P4", "泉溪镇中心小学", [], "学校", "330723103", None, (119.897, 28.862)),
    ("P5", "武义县第一人民医院", ["县一医"], "医院", "330723003", None, (119.812, 28.893)),
    ("P6", "熟溪农贸市场", [], "市场", "330723003", None, (119.8052, 28.8903)),  # its address: 解放街21号
]
PLACE_ADDRESSES = {"P6": "解放街21号"}
SAMPLE_SQUADS = [
    # code, name, township codes, jurisdiction box (WGS-84)
    ("ZD01", "熟溪中队", ["330723003"], (119.79, 28.87, 119.812, 28.91)),
    ("ZD02", "白洋中队", ["330723001"], (119.812, 28.87, 119.84, 28.91)),
]


def build_sample_world(engine: Engine, region: Region) -> None:
    """Load the real region, then a few street segments with door ranges, places, squads and jurisdictions."""
    from etl.jobs.region import load_region

    assert load_region(engine, region).status in {"succeeded", "skipped"}
    with engine.begin() as conn:
        for key, name, aliases, township, (lf, lt, rf, rt), wkt in SAMPLE_SEGMENTS:
            conn.execute(
                text(
                    "INSERT INTO street_segments (segment_key, name, aliases, township_code, left_from, left_to, "
                    "right_from, right_to, geom, length_m, source_crs) VALUES (:key, :name, :aliases, :township, "
                    ":lf, :lt, :rf, :rt, ST_GeomFromText(:wkt, 4326), "
                    "ST_Length(ST_GeomFromText(:wkt, 4326)::geography), 'EPSG:4326')"
                ),
                dict(key=key, name=name, aliases=aliases, township=township, lf=lf, lt=lt, rf=rf, rt=rt, wkt=wkt),
            )
        for key, name, aliases, kind, township, village, (lon, lat) in SAMPLE_PLACES:
            conn.execute(
                text(
                    "INSERT INTO places (place_key, name, aliases, kind, township_code, village_code, geom, "
                    "source_crs) VALUES (:key, :name, :aliases, :kind, :township, :village, "
                    "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'EPSG:4326')"
                ),
                dict(
                    key=key, name=name, aliases=aliases, kind=kind, township=township, village=village, lon=lon, lat=lat
                ),
            )
        for key, address in PLACE_ADDRESSES.items():
            conn.execute(text("UPDATE places SET address = :a WHERE place_key = :k"), dict(a=address, k=key))
        for code, name, townships, box in SAMPLE_SQUADS:
            conn.execute(
                text("INSERT INTO squads (code, name, township_codes) VALUES (:code, :name, :townships)"),
                dict(code=code, name=name, townships=townships),
            )
            conn.execute(
                text(
                    "INSERT INTO jurisdictions (version, squad_code, name, geom) VALUES (1, :code, :name, "
                    "ST_Multi(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)))"
                ),
                dict(code=code, name=name, x0=box[0], y0=box[1], x1=box[2], y1=box[3]),
            )


@pytest.fixture(scope="session")
def sample_world_url(test_url: URL, region: Region) -> Iterator[URL]:
    """A schema of its own with the sample world loaded once per session (read-only for tests)."""
    with migrated_schema(test_url, "t_world") as url:
        build_sample_world(get_engine(url), region)
        yield url


@pytest.fixture
def world_engine(schema_engine: Engine, region: Region) -> Engine:
    """A fresh schema with the sample world loaded (for tests that write)."""
    build_sample_world(schema_engine, region)
    return schema_engine


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo dataset (scale 0.05, one year to 2026-11-27, seed 7) generated once per session.

    Generated through the command line (``python -m etl generate-demo``); ``raw/`` holds the
    files the ETL reads, ``truth/`` what the generator knows (see etl/demo/TRUTH.md).
    """
    from click.testing import CliRunner

    from etl.__main__ import main

    out = tmp_path_factory.mktemp("demo")
    args = ["generate-demo", str(out), "--scale", "0.05", "--years", "1", "--end", "2026-11-27", "--seed", "7"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out
