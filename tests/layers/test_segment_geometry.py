"""Segment layers send ids, not coordinates: the geometry is one GeoJSON the browser fetches once."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import plotly.graph_objects as go
import shapely
from shapely.geometry import shape
from sqlalchemy.engine import Connection

from layers._geometry import SEGMENT_GEOMETRY_ROUTE, ribbon
from layers.base import LayerParams, Scope
from layers.registry import render
from layers.streets import segment_geometry

from .test_patrol import WINDOW, _streets


def _query(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert parts.path == SEGMENT_GEOMETRY_ROUTE
    return parse_qs(parts.query, keep_blank_values=True)


def _ids(trace: go.Choroplethmap) -> set[int]:
    return {int(i) for i in trace.locations}


def test_segment_layers_send_ids_and_the_url_of_their_geometry(db: Connection, seed) -> None:
    ids = _streets(seed)
    for name in ("streets", "patrol_coverage"):
        result = render(name, db, WINDOW)
        lines = [t for t in result.traces if isinstance(t, go.Choroplethmap)]
        assert lines, name
        for trace in lines:
            assert isinstance(trace.geojson, str), name  # a URL, never the coordinates themselves
        assert set().union(*(_ids(t) for t in lines)) == set(ids.values())
        assert len({t.geojson for t in lines}) == 1  # every class of one layer draws from one GeoJSON
        payload = json.dumps([t.to_plotly_json() for t in lines], default=str)
        assert "coordinates" not in payload and "119.8" not in payload
    coverage = render("patrol_coverage", db, WINDOW)
    by_class = {t.name: _ids(t) for t in coverage.traces if isinstance(t, go.Choroplethmap)}
    assert by_class["7天内巡查"] == {ids["C"]}  # C: last patrol 6.4 days before the window ends


def test_the_url_names_the_filter_and_the_same_filter_gives_the_same_url(db: Connection, seed) -> None:
    _streets(seed)
    everything = render("streets", db, LayerParams()).traces[0].geojson
    squad = render("streets", db, LayerParams(scope=Scope(squads=("ZD01",)))).traces[0].geojson
    chief = render("patrol_coverage", db, LayerParams(scope=Scope(chief_code="C1"))).traces[0].geojson
    assert "squads" not in _query(everything) and _query(squad)["squads"] == ["ZD01"]
    assert _query(chief)["chief"] == ["C1"]
    assert render("streets", db, LayerParams(scope=Scope(squads=("ZD01",)))).traces[0].geojson == squad
    assert len({everything, squad, chief}) == 3


def test_the_geometry_holds_exactly_the_filtered_segments_as_ribbons(db: Connection, seed) -> None:
    ids = _streets(seed)
    features = segment_geometry(db, ("ZD01",), None)["features"]
    assert sorted(int(f["id"]) for f in features) == sorted([ids["A"], ids["B"]])
    for feature in features:
        polygon = shape(feature["geometry"])
        assert polygon.area == 0  # nothing to fill: only the outline (the line) is drawn
    b = next(f for f in features if int(f["id"]) == ids["B"])
    assert shapely.equals(shape(b["geometry"]).exterior, shapely.LineString([(119.81, 28.89), (119.84, 28.89)]))
    assert [int(f["id"]) for f in segment_geometry(db, None, "C2")["features"]] == [ids["C"]]
    assert segment_geometry(db, (), None)["features"] == []  # no squad allowed: no segment
    assert len(segment_geometry(db, None, None)["features"]) == 3


def test_a_ribbon_of_a_multiline_keeps_every_part() -> None:
    lines = shapely.MultiLineString([[(0, 0), (1, 0), (1, 1)], [(2, 2), (3, 3)]])
    geometry = ribbon(lines)
    assert geometry["type"] == "MultiPolygon"
    assert geometry["coordinates"][0][0] == [[0, 0], [1, 0], [1, 1], [1, 0], [0, 0]]
    assert geometry["coordinates"][1][0] == [[2, 2], [3, 3], [2, 2]]
    assert ribbon(shapely.LineString()) is None
