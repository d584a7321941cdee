"""The flow, enforced: which package may import which, over every Python file of the tree.

files → etl → PostGIS → layers → dashboard (DESIGN.md, "How data flows"). Imports are read with
``ast``, at any depth (function-level imports too), relative imports resolved, and
``importlib.import_module("...")`` with a literal name counted as an import.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"var", "node_modules", "__pycache__"}  # plus every hidden folder (.venv, .git, ...)

# Importer (a package or subpackage, by dotted prefix) → what it must not import (dotted prefixes).
# The most specific row applies; a module may always import inside its own row's package.
RULES: dict[str, frozenset[str]] = {
    "geo": frozenset({"etl", "layers", "alerts", "plans", "dashboard", "bench", "tests"}),
    "etl": frozenset({"layers", "alerts", "dashboard", "bench", "tests"}),
    # The demo's services (make demo) may start the warning evaluator.
    "etl.demo": frozenset({"layers", "dashboard", "bench", "tests"}),
    "layers": frozenset({"etl", "alerts", "dashboard", "bench", "tests"}),
    # The statistics are pure: nothing else of layers (no SQL helpers, no layer interface), no drawing.
    "layers.stats": frozenset({"layers", "etl", "dashboard", "bench", "tests", "sqlalchemy", "plotly"}),
    # Patrol plans sit after the layers: they read geo and the layers' analytics, write their own tables.
    "plans": frozenset({"etl", "alerts", "dashboard", "bench", "tests"}),
    # Warnings sit after the layers: they read geo and the layers' analytics, write their own table.
    "alerts": frozenset({"etl", "plans", "dashboard", "bench", "tests"}),
    "dashboard": frozenset({"etl", "bench", "tests"}),
    "bench": frozenset({"tests"}),
    "scripts": frozenset({"bench", "tests"}),
    "tests": frozenset(),
}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.imported} (forbidden for {self.rule})"


def module_name(path: Path) -> str:
    """Dotted module name of a file below :data:`ROOT` (``geo/db/__init__.py`` → ``geo.db``)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, is_package: bool = False) -> list[tuple[int, tuple[str, ...]]]:
    """Every import of ``source`` with its line, as the names it may load (``from a import b`` loads
    ``a`` and maybe the submodule ``a.b``): ``import``/``from`` at any depth, relative imports made
    absolute, and ``importlib.import_module`` / ``__import__`` of a literal name."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, (alias.name,)) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, (name, *(f"{name}.{a.name}" for a in node.names if a.name != "*"))))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
                found.append((node.lineno, (node.args[0].value,)))
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def rule_for(module: str) -> str | None:
    """The most specific row of :data:`RULES` that applies to ``module``."""
    rows = [row for row in RULES if _within(module, row)]
    return max(rows, key=len) if rows else None


def violations(source: str, module: str, path: str = "<source>", is_package: bool = False) -> list[Violation]:
    """Imports of ``source`` (the module ``module``) that its row of :data:`RULES` forbids."""
    rule = rule_for(module)
    if rule is None:
        return []
    found = []
    for line, names in imported_names(source, module, is_package):
        banned = [n for n in names if not _within(n, rule) and any(_within(n, b) for b in RULES[rule])]
        if banned:
            found.append(Violation(path, line, banned[0], rule))
    return found


def python_files() -> list[Path]:
    """Every Python file of the project (hidden folders, ``var/`` and caches left out)."""
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not any(part.startswith(".") or part in SKIP_DIRS for part in path.relative_to(ROOT).parts[:-1])
    )


def top_level_packages() -> set[str]:
    """Top-level names that hold Python: folders with a ``.py`` file anywhere below, and root modules."""
    return {path.relative_to(ROOT).parts[0].removesuffix(".py") for path in python_files()}


def test_the_rule_table_matches_the_real_top_level_packages() -> None:
    # A new top-level package must get a row (a decision about where it sits in the flow), a row must
    # name a folder that exists, and a forbidden name is a project package or an installed library.
    packages = top_level_packages()
    assert {"geo", "etl", "layers", "dashboard", "bench", "tests"} <= packages  # the walk sees the tree
    top_rows = {row.split(".")[0] for row in RULES}
    assert packages <= top_rows, f"no import rule for {sorted(packages - top_rows)}"
    missing = [row for row in RULES if not (ROOT / row.replace(".", "/")).is_dir()]
    assert not missing, f"rows naming no folder: {missing}"
    for banned in set().union(*RULES.values()):
        assert banned.split(".")[0] in top_rows or importlib.util.find_spec(banned) is not None, banned


@pytest.mark.parametrize("row", sorted(RULES))
def test_imports_follow_the_flow(row: str) -> None:
    found = []
    for path in python_files():
        module = module_name(path)
        if rule_for(module) != row:
            continue
        source = path.read_text(encoding="utf-8")
        found += violations(source, module, str(path.relative_to(ROOT)), path.name == "__init__.py")
    assert not found, "imports against the flow:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("geo.geocode.cli", "def main():\n    from etl.readers.tabular import read_table\n", ["etl.readers.tabular"]),
        ("etl.jobs.cases", "import layers.registry\n", ["layers.registry"]),
        ("layers.hotspots", "from dashboard import data\n", ["dashboard"]),
        ("layers.stats.trend", "from layers._frames import read_frame\n", ["layers._frames"]),
        ("layers.stats.trend", "import sqlalchemy\n", ["sqlalchemy"]),
        ("dashboard.pages.cases", "from etl import review\n", ["etl"]),
        ("layers.stats.trend", "from layers import _frames\n", ["layers"]),
        ("layers.stats.trend", "from layers.stats import gistar, trend\n", []),
        ("layers.stats.trend", "from .._frames import read_frame\n", ["layers._frames"]),
        ("bench.bench_dashboard", "from tests.dashboard.conftest import free_port\n", ["tests.dashboard.conftest"]),
        ("scripts.tool", "import importlib\nimportlib.import_module('tests.conftest')\n", ["tests.conftest"]),
        # Allowed: inside one's own package, downstream → upstream, the stats from layers, tests from anywhere.
        ("layers.stats.trend", "from layers.stats.gistar import fdr_bh\nfrom geo.region import Region\n", []),
        ("layers.hotspots", "from layers.stats.gistar import gi_star\nfrom geo.region import get_region\n", []),
        ("dashboard.data", "from layers.registry import render\n", []),
        ("plans.planner", "from etl.jobs import streets\n", ["etl.jobs"]),
        ("plans.planner", "from dashboard import app\n", ["dashboard"]),
        ("plans.prizes", "from layers.registry import get_layer\nfrom geo.region import get_region\n", []),
        ("dashboard.pages.squad", "from plans.planner import make_plan\n", []),
        ("tests.etl.test_cases", "from etl.jobs import cases\nfrom bench._seed import seed\n", []),
        ("geo.geocode.match", "from geo.geocode.normalize import clean_text\n", []),
        ("geo.db", "from .. import errors\nfrom . import cluster\n", []),
        ("alerts.rules", "from layers.registry import render\nfrom geo.region import Region\n", []),
        ("alerts.rules", "from dashboard import data\n", ["dashboard"]),
        ("layers.patrol", "from alerts.store import sync\n", ["alerts.store"]),
        ("etl.jobs.gps", "import alerts.evaluate\n", ["alerts.evaluate"]),
        ("etl.demo.services", "from alerts.__main__ import main\n", []),
        ("dashboard.warnings_panel", "from alerts.store import acknowledge\n", []),
    ],
)
def test_the_check_catches_a_forbidden_import(module: str, source: str, expected: list[str]) -> None:
    # The checker itself: a forbidden import added anywhere (function level, relative, importlib) is found.
    assert sorted(v.imported for v in violations(source, module, is_package=module == "geo.db")) == sorted(expected)
