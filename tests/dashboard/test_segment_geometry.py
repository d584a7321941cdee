"""Street segment lines by reference: map updates send segment ids, the browser draws them from the
segments' geometry it loaded once per data version (``/basemap/segments.json``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from bench._browser import choose
from dashboard.segment_geometry import SEGMENT_GEOMETRY_ROUTE, encode
from geo.db import get_engine
from layers._geometry import SEGMENTS, segment_trace
from tests.dashboard.conftest import callback_bodies, http_session, wait_for_traces

SEGMENT_LAYERS = ("patrol_coverage", "underpatrolled")
# Per segment trace of the squad map: the trace as Dash keeps it (gd.data) and as plotly draws it (gd._fullData).
DRAWN_JS = """() => { const gd = document.querySelector('#squad-map .js-plotly-plot');
    return gd.data.map((t, i) => ({layer: t.meta && t.meta.layer, ref: !!(t.meta && t.meta.geometry),
        ids: t.meta && t.meta.geometry ? t.meta.geometry.ids : null,
        lon: Array.from(gd._fullData[i].lon || []), lat: Array.from(gd._fullData[i].lat || []),
        customdata: Array.from(gd._fullData[i].customdata || [])})); }"""


def decode(body: bytes) -> dict[int, np.ndarray]:
    """The segments' vertices (lon/lat rows, NaN rows between parts) by id, from the route's body."""
    data = json.loads(body)
    coords = np.cumsum(np.column_stack([data["x"], data["y"]]), axis=0) / 1e5
    breaks = set(data["breaks"])
    out, at = {}, 0
    for segment, n in zip(data["ids"], data["n"], strict=True):
        rows = []
        for k in range(at, at + n):
            if k > at and k in breaks:
                rows.append([np.nan, np.nan])
            rows.append(coords[k])
        out[segment] = np.array(rows)
        at += n
    return out


def test_encode_round_trips_the_vertices_of_multi_part_segments() -> None:
    coords = np.array([[119.81234, 28.89001], [119.81301, 28.8912], [119.9, 28.7], [119.91, 28.71], [119.5, 28.5]])
    body = encode(np.array([7, 9]), np.array([0, 4, 5]), coords, np.array([2]))
    decoded = decode(body)
    assert sorted(decoded) == [7, 9]
    assert np.allclose(decoded[7][:2], coords[:2]) and np.isnan(decoded[7][2]).all()
    assert np.allclose(decoded[7][3:], coords[2:4]) and np.allclose(decoded[9], coords[4:])


def test_a_segment_trace_names_ids_and_carries_no_coordinates() -> None:
    trace = segment_trace([3, 5], color="#000", width=2, name="x")
    assert list(trace.lon) == [] and list(trace.lat) == []
    assert trace.meta == {"geometry": {"set": SEGMENTS, "ids": [3, 5]}}


def test_the_geometry_route_serves_every_segment_with_etag_and_cache(dash_server, seeded) -> None:
    session = http_session(dash_server, "admin")
    first = session.get(dash_server + SEGMENT_GEOMETRY_ROUTE + "?v=0")
    assert first.status_code == 200 and first.headers["ETag"]
    version = first.headers["ETag"].strip('"').split("-")[1]
    named = session.get(f"{dash_server}{SEGMENT_GEOMETRY_ROUTE}?v={version}")
    assert "max-age=86400" in named.headers["Cache-Control"] and "private" in named.headers["Cache-Control"]
    assert "no-cache" in first.headers["Cache-Control"]  # an old version's URL is revalidated
    again = session.get(dash_server + SEGMENT_GEOMETRY_ROUTE, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.content
    decoded = decode(first.content)
    with get_engine().connect() as conn:
        rows = conn.execute(
            text("SELECT id, ST_AsBinary(ST_SimplifyPreserveTopology(geom, 1e-5)) FROM street_segments")
        ).all()
    assert sorted(decoded) == sorted(r[0] for r in rows)
    segment, wkb = rows[0]
    expected = shapely.get_coordinates(shapely.from_wkb(bytes(wkb)))
    assert np.allclose(decoded[segment][~np.isnan(decoded[segment][:, 0])], expected, atol=1.1e-5)
    assert http_session(dash_server, None).get(dash_server + SEGMENT_GEOMETRY_ROUTE).status_code == 401


def _replaced_traces(bodies: list[str]) -> list[dict]:
    """The traces of the squad map's updates that replace its whole ``data`` (a filter's update)."""
    return [
        t
        for u in (json.loads(b) for b in list(bodies) if '"squad-map"' in b)
        for op in (u["response"]["squad-map"]["figure"].get("operations") or [])
        if op.get("location") == ["data"]
        for t in op["params"]["value"]
    ]


@pytest.mark.browser
def test_map_updates_send_no_segment_coordinates_and_lines_are_drawn(squad_page) -> None:
    page = squad_page
    bodies = callback_bodies(page)
    choose(page, "squad-window", "近30天")
    traces: list[dict] = []
    for _ in range(150):  # the filter's map update answered (the live patches of the last traces do not count)
        traces = _replaced_traces(bodies)
        if traces:
            break
        page.wait_for_timeout(200)
    page.wait_for_function(
        "() => !document.querySelector('#squad-map .js-plotly-plot').classList.contains('dash-graph--pending')"
    )
    assert traces, "no map update replaced the map's traces"
    segment_traces = [t for t in traces if (t.get("meta") or {}).get("layer") in SEGMENT_LAYERS]
    assert segment_traces, "the update carries no segment layer"
    for trace in segment_traces:
        if trace.get("mode") != "lines":
            continue
        assert trace["meta"]["geometry"]["ids"] and trace["meta"]["geometry"]["url"].startswith(SEGMENT_GEOMETRY_ROUTE)
        assert trace.get("lon") == [] and trace.get("lat") == []  # ids only: no coordinates resent
    drawn = [t for t in page.evaluate(DRAWN_JS) if t["ref"]]
    assert drawn
    with get_engine().connect() as conn:
        for trace in drawn:
            lon = np.array([np.nan if v is None else v for v in trace["lon"]], dtype=float)
            assert np.isfinite(lon).sum() >= 2 * len(trace["ids"])  # every segment drawn with its vertices
            ids = {v for v in trace["customdata"] if v is not None}
            assert ids == set(trace["ids"])  # a click on a vertex reports its segment
            first = trace["ids"][0]
            at = trace["customdata"].index(first)
            box = conn.execute(
                text(
                    "SELECT ST_XMin(geom), ST_XMax(geom), ST_YMin(geom), ST_YMax(geom) FROM street_segments WHERE id=:i"
                ),
                {"i": first},
            ).one()
            assert box[0] - 2e-5 <= trace["lon"][at] <= box[1] + 2e-5
            assert box[2] - 2e-5 <= trace["lat"][at] <= box[3] + 2e-5
    assert not page.failures and not page.console_errors


@pytest.mark.browser
def test_a_second_page_visit_does_not_download_the_geometry_again(page_at, dash_server) -> None:
    page = page_at("/squad/ZD01")
    page.wait_for_function(
        """() => { const gd = document.querySelector('#squad-map .js-plotly-plot');
            return gd && gd._fullData
                && gd._fullData.some(t => t.meta && t.meta.geometry && (t.lon || []).length > 0); }""",
        timeout=60000,
    )
    fetched = """() => performance.getEntriesByType('resource').filter(e => e.name.includes('/basemap/segments.json'))
        .map(e => ({transfer: e.transferSize, body: e.decodedBodySize, status: e.responseStatus}))"""
    first = page.evaluate(fetched)
    assert len(first) == 1 and first[0]["transfer"] > 0 and first[0]["body"] > 100  # loaded once, over the network
    page.goto(dash_server + "/street/JL001")
    wait_for_traces(page, "street-map", "patrol_coverage")
    page.wait_for_function(
        """() => { const gd = document.querySelector('#street-map .js-plotly-plot');
            return gd._fullData.some(t => t.meta && t.meta.geometry && (t.lon || []).length > 0); }""",
        timeout=20000,
    )
    again = page.evaluate(fetched)
    assert len(again) == 1
    assert again[0]["transfer"] == 0 or again[0]["status"] == 304, again  # the browser's cache, not a download
    assert not page.console_errors


@pytest.mark.browser
def test_plotly_starts_loading_before_the_page_callback_returns_and_loads_once(page_at) -> None:
    """The 5 MB map library is fetched in parallel with the page's first callback, not after it."""
    page = page_at("/squad/ZD01")
    wait_for_traces(page, "squad-map", "hotspots")
    entries = page.evaluate(
        """() => performance.getEntriesByType('resource')
            .filter(e => e.name.includes('plotly.min.js') || e.name.includes('_dash-update-component'))
            .map(e => ({name: e.name, start: e.startTime, end: e.responseEnd}))"""
    )
    plotly = [e for e in entries if "plotly.min.js" in e["name"]]
    callbacks = [e for e in entries if "_dash-update-component" in e["name"]]
    assert len(plotly) == 1, plotly  # fetched (and run) once
    assert callbacks and plotly[0]["start"] < min(c["end"] for c in callbacks)
    assert page.evaluate("() => typeof window.Plotly.react === 'function'")
    assert not page.console_errors
