"""The whole demo through the real jobs: every run reconciles, links and places match the generator's truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Geod
from sqlalchemy import Engine, text

from etl.demo import NOT_IN_DEMO, load_demo
from etl.jobs.registry import kinds

GEOD = Geod(ellps="WGS84")


def test_demo_loads_reconciles_matches_truth_and_reloads_as_a_no_op(
    schema_engine: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    reports = load_demo(schema_engine, demo_dir)
    order = ["region", *(k for k in kinds() if k not in NOT_IN_DEMO)]
    plan_days = json.loads((demo_dir / "truth/generation.json").read_text(encoding="utf-8"))["plan_days"]
    assert plan_days >= 1
    # the registry's load order, then the plan-following patrols of each plan day (etl/demo/planned_patrols.py)
    assert [r.job for r in reports] == [*order, *["gps"] * plan_days]
    for report in reports:
        assert report.status == "succeeded", report
        assert report.read == report.loaded + report.rejected > 0, report
    truth = demo_dir / "truth"
    with schema_engine.connect() as conn:
        links = pd.read_sql(
            text(
                "SELECT c.code AS chief_code, s.segment_key AS segment_id FROM chief_segments cs "
                "JOIN street_chiefs c ON c.id = cs.chief_id JOIN street_segments s ON s.id = cs.segment_id"
            ),
            conn,
        )
        cases = pd.read_sql(
            text("SELECT case_number, township_code, geocode_level, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM cases"),
            conn,
        )
        visits = conn.execute(text("SELECT count(*) FROM segment_visits")).scalar()
        squads = conn.execute(text("SELECT count(*) FROM squads WHERE station IS NOT NULL")).scalar()
    expected_links = pd.read_csv(truth / "chief_segments.csv", dtype=str)
    assert set(zip(links.chief_code, links.segment_id, strict=True)) == set(
        zip(expected_links.chief_code, expected_links.segment_id, strict=True)
    )
    assert squads == 13 and visits > 0

    true_cases = pd.read_csv(truth / "cases.csv", dtype=str).drop_duplicates("case_number", keep="last")
    clean = true_cases[true_cases["dirty"].fillna("") == ""]
    joined = clean.merge(cases, on="case_number", suffixes=("_true", ""))
    assert len(joined) == len(clean)  # every clean case is loaded
    located = joined[joined["township_code"].notna()]
    assert (located["township_code"] == located["township_code_true"]).mean() > 0.95
    door = joined[joined["geocode_level"] == "门牌"]
    _, _, metres = GEOD.inv(
        door["lon"].to_numpy(),
        door["lat"].to_numpy(),
        door["true_lon"].astype(float).to_numpy(),
        door["true_lat"].astype(float).to_numpy(),
    )
    assert np.median(metres) < 50

    again = load_demo(schema_engine, demo_dir)
    assert {r.status for r in again[1:]} == {"skipped"}
