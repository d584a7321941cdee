"""What an input is declared to be: one precedence (command line > source.toml > the file's own > default)
for the CRS of every job and the text encoding; the forced encoding is part of the input's identity."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from etl.jobs import places
from etl.readers.encoding import declared_encoding, forced_encoding
from etl.runs import input_identity
from etl.source_crs import input_crs
from geo.errors import ConfigError

TOML = {"crs": "bd09", "encoding": "big5", "_file": "/data/source.toml"}


def test_one_precedence_for_the_crs_and_the_encoding() -> None:
    assert input_crs("EPSG:4549", TOML, "EPSG:4490", source="a.shp") == "EPSG:4549"  # --crs
    assert input_crs(None, TOML, "EPSG:4490", source="a.shp") == "bd09"  # source.toml
    assert input_crs(None, {}, "EPSG:4549", source="a.shp") == "EPSG:4549"  # the file's own
    assert input_crs(None, {}, source="a.csv") == "EPSG:4326"  # the default …
    assert input_crs(None, {}, source="cases.csv", default="gcj02") == "gcj02"  # … a job's own default
    assert declared_encoding(TOML) == "cp950"  # source.toml
    with forced_encoding("gbk"):
        assert declared_encoding(TOML) == "gb18030"  # --encoding
    assert declared_encoding({}) is None  # the file's own (.cpg) or detection decides
    with pytest.raises(ConfigError, match=r"/data/source\.toml"):
        input_crs(None, {"crs": "EPSG:99999999", "_file": "/data/source.toml"}, source="a.csv")
    with pytest.raises(ConfigError, match=r"/data/source\.toml"):
        declared_encoding({"encoding": "klingon", "_file": "/data/source.toml"})


def test_a_reload_with_another_encoding_is_not_identical_input(schema_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_bytes("name,lon,lat\n熟溪桥,119.81,28.89\n".encode("gbk"))
    assert input_identity(path) != input_identity(path, encoding="gb18030")
    with forced_encoding("latin-1"):  # the wrong encoding: the name is mojibake
        first = places.load(schema_engine, path)
    with forced_encoding("gbk"):
        second = places.load(schema_engine, path)
    assert (first.status, second.status) == ("succeeded", "succeeded")  # was: skipped as "identical input"
    with schema_engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM places")).scalars().all()
    assert "熟溪桥" in names  # read right the second time (the mojibake place keys by its own name)
