"""Property-based fuzzing of the geo readers and a job: no crash, every feature loaded or rejected with a reason."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from etl.jobs import streets
from etl.mapping import load_mapping
from etl.readers.input_files import SourceFile, read_source_file
from geo.errors import EgisError

SUFFIXES = [".geojson", ".kml", ".kmz", ".gpx", ".zip", ".csv", ".gpkg", ".shp"]


@settings(max_examples=120, deadline=None)
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_any_bytes_read_or_fail_with_a_clear_error(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            layers = read_source_file(SourceFile(path, str(path)), load_mapping("streets"))
        except EgisError as exc:
            assert "fuzz" in str(exc)  # names the file
            return
        for layer in layers:
            assert "_row" in layer.frame.columns


COORD = st.tuples(st.floats(119.0, 120.5, allow_nan=False), st.floats(28.3, 29.3, allow_nan=False))
FEATURE = st.fixed_dictionaries(
    {
        "name": st.one_of(st.just(""), st.sampled_from(["解放街", "熟溪路", "壶山路"]), st.text(max_size=6)),
        "coords": st.lists(COORD, min_size=0, max_size=4),
        "left_from": st.one_of(st.none(), st.integers(-5, 500), st.text(max_size=3)),
    }
)


def _geojson(features: list[dict]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"segment_id": f"F{i}", "name": f["name"], "left_from": f["left_from"]},
                "geometry": {"type": "LineString", "coordinates": [list(c) for c in f["coords"]]}
                if f["coords"]
                else None,
            }
            for i, f in enumerate(features)
        ],
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(features=st.lists(FEATURE, min_size=1, max_size=12))
def test_every_street_feature_is_loaded_or_rejected_with_a_reason(schema_engine: Engine, features) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "streets.geojson"
        path.write_text(json.dumps(_geojson(features), ensure_ascii=False), encoding="utf-8")
        try:
            report = streets.load(schema_engine, path, force=True)
        except EgisError as exc:
            assert "streets.geojson" in str(exc)
            event(f"the whole file refused: {str(exc).splitlines()[0][-60:]}")
            return
    event("loaded or rejected row by row")
    assert report.read == len(features) == report.loaded + report.rejected
    with schema_engine.connect() as conn:
        reasons = (
            conn.execute(text("SELECT reason FROM etl_rejects WHERE run_id = :r"), {"r": report.run_id}).scalars().all()
        )
    assert len(reasons) == report.rejected and all(reasons)
