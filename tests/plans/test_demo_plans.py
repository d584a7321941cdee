"""Plans on the demo data (loaded through the real ETL): the command line, GeoJSON, GPX, stored versions."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import gpxpy
import pytest
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.engine import URL

from geo.db import get_engine
from geo.settings import PROJECT_ROOT
from plans.errors import PlanError
from plans.planner import PlanRequest, make_plan
from plans.store import approve, save_plan, stops, versions

DATE = "2026-11-28"  # the demo ends 2026-11-27


@pytest.fixture(scope="module")
def squad(demo_url: URL) -> tuple[str, list[str]]:
    """The squad with the most street chiefs, and its chiefs."""
    with get_engine(demo_url).connect() as conn:
        code = conn.execute(
            text("SELECT squad_code FROM street_chiefs WHERE active GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
        ).scalar_one()
        chiefs = conn.execute(
            text("SELECT code FROM street_chiefs WHERE squad_code = :s AND active ORDER BY code"), {"s": code}
        ).scalars()
        return code, list(chiefs)


def _cli(demo_url: URL, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=demo_url.render_as_string(hide_password=False))
    return subprocess.run(
        [sys.executable, "-m", "plans", *args], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300
    )


def test_cli_writes_a_valid_geojson_plan_and_gpx(demo_url: URL, squad, tmp_path: Path) -> None:
    code, chiefs = squad
    out, gpx_dir = tmp_path / "plan.geojson", tmp_path / "gpx"
    chosen = ",".join(chiefs[:2])
    args = ["plan", "--squad", code, "--date", DATE, "--chiefs", chosen, "--minutes", "90", "--mode", "foot"]
    done = _cli(demo_url, *args, "--time-limit", "1", "-o", str(out), "--gpx-dir", str(gpx_dir))
    assert done.returncode in (0, 3), done.stderr
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["chief_code"] for f in collection["features"]] == chiefs[:2]
    planned = []
    for feature in collection["features"]:
        props = feature["properties"]
        assert props["duration_min"] <= 90
        if not props["stops"]:
            continue
        line = shape(feature["geometry"])
        assert line.geom_type == "LineString" and line.is_valid and line.length > 0
        arrivals = [dt.datetime.fromisoformat(s["arrive_at"]) for s in props["stops"]]
        assert arrivals == sorted(arrivals)
        assert [s["seq"] for s in props["stops"]] == list(range(1, len(arrivals) + 1))
        planned += [s["segment_id"] for s in props["stops"]]
        # GPX: the same path as a track, one waypoint per stop, readable by a GPX parser
        gpx = gpxpy.parse((gpx_dir / f"{props['chief_code']}.gpx").read_text(encoding="utf-8"))
        points = gpx.tracks[0].segments[0].points
        assert len(points) == len(line.coords)
        assert (points[0].longitude, points[0].latitude) == pytest.approx(line.coords[0], abs=1e-6)
        assert len(gpx.waypoints) == len(props["stops"])
    assert planned and len(planned) == len(set(planned))
    assert collection["plan"]["summary"]["stops"] == len(planned)


def test_cli_exits_non_zero_with_the_reason(demo_url: URL, squad) -> None:
    code, _ = squad
    done = _cli(demo_url, "plan", "--squad", code, "--date", DATE, "--chiefs", "NOBODY", "--minutes", "60")
    assert done.returncode == 2
    assert "no plan" in done.stderr and "NOBODY" in done.stderr
    assert done.stdout == ""
    done = _cli(demo_url, "plan", "--squad", code, "--date", DATE, "--minutes", "1")
    assert done.returncode == 2 and "budget" in done.stderr


def test_cli_graph_reports_the_network(demo_url: URL, squad) -> None:
    done = _cli(demo_url, "graph", "--squad", squad[0])
    assert done.returncode in (0, 3), done.stderr
    assert "connected piece" in done.stdout and "piece 1:" in done.stdout


def test_cli_graph_names_a_one_way_trap_and_keeps_the_rebuild(demo_url: URL, squad) -> None:
    code = squad[0]
    engine = get_engine(demo_url)
    with engine.begin() as conn:  # a one-way dead end off one of the squad's street ends: no way back
        conn.execute(
            text(
                """INSERT INTO street_segments (segment_key, name, squad_code, oneway, geom, length_m)
                   SELECT 'CLI_TRAP', '单行死胡同', CAST(:s AS text), 'FT',
                          ST_MakeLine(ST_StartPoint(geom), ST_Translate(ST_StartPoint(geom), 0.0003, 0.0004)), 50
                   FROM street_segments WHERE squad_code = CAST(:s AS text) ORDER BY id LIMIT 1"""
            ),
            {"s": code},
        )
    try:
        done = _cli(demo_url, "graph", "--squad", code)
        assert done.returncode == 3, done.stderr
        assert "one-way no_return" in done.stdout and "单行死胡同" in done.stdout
        assert "1 one-way trap(s)" in done.stderr
        again = _cli(demo_url, "graph", "--squad", code)
        assert again.stdout.startswith("graph current"), "the rebuild of the partial run was kept"
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM street_segments WHERE segment_key = 'CLI_TRAP'"))


def test_versions_approval_and_a_deleted_segment(demo_url: URL, squad) -> None:
    code, chiefs = squad
    engine = get_engine(demo_url)
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            request = PlanRequest(code, dt.date.fromisoformat(DATE), chiefs=tuple(chiefs[:2]), time_limit_s=1.0)
            plan = make_plan(conn, request)
            plan_id, version = save_plan(conn, plan, author="zd_leader")
            first = plan.routes[0].stops[0].segment_id
            adjusted = make_plan(conn, PlanRequest(**{**request.__dict__, "drop": frozenset({first})}))
            _, version2 = save_plan(conn, adjusted, author="zd_leader", plan_id=plan_id)
            assert (version, version2) == (1, 2)
            assert first not in set(stops(conn, plan_id)["segment_id"])
            approve(conn, plan_id, 2, "zd_leader")
            audit = versions(conn, plan_id)
            assert audit["author"].tolist() == ["zd_leader", "zd_leader"]
            assert audit["approved_by"].tolist()[1] == "zd_leader" and audit["approved_at"].notna().tolist() == [
                False,
                True,
            ]
            # a segment of version 1 deleted afterwards: approving that version says which one
            conn.execute(text("DELETE FROM street_segments WHERE id = :s"), {"s": first})
            with pytest.raises(PlanError, match="已被删除") as caught:
                approve(conn, plan_id, 1, "zd_leader")
            assert caught.value.reason == "segment_deleted"
        finally:
            outer.rollback()
