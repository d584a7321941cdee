"""The job registry is the one list of ETL jobs: the CLI, the demo, the README and the jobs' merge keys read it."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import UniqueConstraint

from etl.__main__ import main
from etl.jobs.registry import JOBS, Job, job, kinds, markdown_table, order_problems, requirements
from etl.mapping import load_mapping
from geo.errors import UnknownNameError
from geo.models import Base
from geo.settings import PROJECT_ROOT

README = str(PROJECT_ROOT / "README.md")


def test_the_load_command_offers_exactly_the_registry_kinds_and_lists_them_in_its_help() -> None:
    kind_argument = next(p for p in main.commands["load"].params if p.name == "kind")
    assert isinstance(kind_argument.type, click.Choice)
    assert list(kind_argument.type.choices) == kinds()
    shown = CliRunner().invoke(main, ["load", "--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    listed = [line.split()[0] for line in shown.output.splitlines() if line.startswith("  ") and line.split()]
    assert [k for k in listed if k in kinds()] == kinds()  # every kind, in load order


def test_the_readme_carries_the_registry_table_and_names_every_kind() -> None:
    readme = Path(README).read_text(encoding="utf-8")
    table = markdown_table()
    assert table in readme, "README's job table differs from the registry: paste `python -m etl jobs --markdown`"
    assert all(f"| `{kind}` |" in table for kind in kinds())
    assert CliRunner().invoke(main, ["jobs", "--markdown"]).output.strip() == table


def test_the_registry_order_loads_what_a_job_needs_before_it() -> None:
    assert order_problems() == []
    position = {kind: i for i, kind in enumerate(kinds())}
    for entry in JOBS:
        assert all(position[need] < position[entry.kind] for need in requirements(entry.kind))
    assert requirements("gps") == ["jurisdictions", "streets"]
    assert requirements("cases") == ["jurisdictions", "streets", "places"]
    # The check can fail: a job declared before what it needs, twice, or with an unknown option.
    cases, streets = job("cases"), job("streets")
    broken = (cases, streets, streets, Job("x", "m", "r", "t", ("k",), options=frozenset({"colour"})))
    assert order_problems(broken) == [
        "cases: comes after 'jurisdictions', which is not declared before it",
        "cases: comes after 'streets', which is not declared before it",
        "cases: comes after 'places', which is not declared before it",
        "streets: comes after 'jurisdictions', which is not declared before it",
        "streets: declared twice",
        "streets: comes after 'jurisdictions', which is not declared before it",
        "x: unknown option 'colour'",
    ]


def test_an_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown ETL job 'parcels'; known: basemap, cases, chiefs"):
        job("parcels")


def test_every_merge_key_is_a_unique_key_of_its_table_and_every_kind_has_a_mapping() -> None:
    for entry in JOBS:
        table = Base.metadata.tables[entry.table]
        unique = {tuple(c.name for c in con.columns) for con in table.constraints if isinstance(con, UniqueConstraint)}
        unique |= {(c.name,) for c in table.columns if c.unique}
        assert entry.merge_key in unique, f"{entry.kind}: {entry.merge_key} is no unique key of {entry.table}"
        assert load_mapping(entry.kind).kind == entry.kind


KEY_POSITION = {"merge": 3, "merge_features": 4}  # etl.upsert.merge, etl.jobs._features.merge_features


def _merge_calls(path: Path) -> tuple[int, list[str]]:
    """How many merges ``path`` calls, and those whose key (positional or ``key=``) is written inline."""
    calls, inline = 0, []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        name = getattr(node.func, "id", getattr(node.func, "attr", "")) if isinstance(node, ast.Call) else ""
        if name not in KEY_POSITION:
            continue
        calls += 1
        position = KEY_POSITION[name]
        key = node.args[position] if len(node.args) > position else None
        key = next((k.value for k in node.keywords if k.arg == "key"), key)
        if isinstance(key, ast.List | ast.Tuple | ast.Constant):
            inline.append(f"{path.name}:{node.lineno}")
    return calls, inline


def test_the_jobs_merge_on_their_registry_key_not_an_inline_one(tmp_path: Path) -> None:
    found = {path.name: _merge_calls(path) for path in sorted((PROJECT_ROOT / "etl" / "jobs").glob("*.py"))}
    merging = {name for name, (calls, _) in found.items() if calls}
    assert {f"{entry.kind}.py" for entry in JOBS if entry.writes == "merge"} <= merging
    assert [hit for _, inline in found.values() for hit in inline] == []
    written_inline = tmp_path / "old.py"  # the checker finds what the jobs used to write
    written_inline.write_text(
        'merged = merge(conn, Squad.__table__, rows, ["code"])\nmerge(c, t, r, key=("a",))\n'
        'merge_features(conn, run, Place.__table__, rows, ["place_key"])\n'
    )
    assert _merge_calls(written_inline) == (3, ["old.py:1", "old.py:2", "old.py:3"])


@pytest.mark.parametrize(
    "arguments,message",
    [
        (["load", "chiefs", README, "--crs", "gcj02"], "--crs does not apply to chiefs (it takes: --mapping"),
        (["load", "streets", README, "--accept-foreign"], "--accept-foreign does not apply to streets"),
    ],
)
def test_the_load_command_refuses_an_option_the_kind_does_not_take(arguments: list[str], message: str) -> None:
    done = CliRunner().invoke(main, arguments, terminal_width=200)
    assert done.exit_code == 2 and message in done.output
