"""The same seed gives byte-identical files; another seed gives other data."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from etl.demo.generate import generate_demo


def _files(root: Path) -> dict[str, bytes]:
    """The generator's files (``raw/``, ``truth/``); ``planned/`` is written when the demo is loaded."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for folder in ("raw", "truth")
        for p in sorted((root / folder).rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path, demo_dir: Path) -> None:
    end = dt.date(2026, 11, 27)
    # another process with another hash seed, same parameters as the demo_dir fixture
    args = ["generate-demo", str(tmp_path / "a"), "--scale", "0.05", "--years", "1", "--end", "2026-11-27"]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-m", "etl", *args, "--seed", "7"], check=True, env=env, capture_output=True)
    a = _files(tmp_path / "a")
    assert a == _files(demo_dir)
    assert any(name.endswith(".xlsx") for name in a) and any(name.endswith(".zip") for name in a)
    generate_demo(tmp_path / "b", seed=8, years=1, scale=0.05, end=end)
    b = _files(tmp_path / "b")
    cases_a = {k: v for k, v in a.items() if k.startswith("raw/cases")}
    cases_b = {k: v for k, v in b.items() if k.startswith("raw/cases")}
    assert cases_a.keys() != cases_b.keys() or cases_a != cases_b
    assert a["raw/jurisdictions/squad_jurisdictions.zip"] == b["raw/jurisdictions/squad_jurisdictions.zip"]
