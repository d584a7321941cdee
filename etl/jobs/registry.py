"""The ETL jobs that load files, declared once: kind, module, what it reads, table and merge key, order, options.

The command line (``etl load`` choices, help and the options each kind takes), the demo loader
(its order) and the README's job table read this registry, and every job merges on its entry's
``merge_key``. Each job module exposes ``load(engine, path, *, crs, mapping, force, ...)``.

The region job (``etl region``, :mod:`etl.jobs.region`) reads the region config, not files, and
always runs before these.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from geo.errors import ConfigError, UnknownNameError

# Options of ``etl load`` a job may take (beyond PATH and --force), by keyword of its load().
OPTION_FLAGS = {"crs": "--crs", "mapping": "--mapping", "encoding": "--encoding", "accept_foreign": "--accept-foreign"}
FILE_OPTIONS = frozenset({"crs", "mapping", "encoding"})


@dataclass(frozen=True)
class Job:
    """One ETL job that loads files.

    Attributes
    ----------
    kind
        Its name on the command line (``etl load KIND PATH``), in ``etl_runs.job`` and the mapping section.
    module
        The module whose ``load()`` runs it.
    reads
        What files it reads, for the help and the README.
    table
        The table it merges into.
    merge_key
        The natural key it merges on (a unique constraint of ``table``).
    after
        Kinds whose data it uses, so they load first (a job still runs without them, with less).
    options
        Options of ``etl load`` it takes (keywords of its ``load()``: ``crs``, ``mapping``, …).
    writes
        How it writes ``table``: ``merge`` (:func:`etl.upsert.merge` on ``merge_key``) or ``copy``
        (new rows only by COPY; a row whose key is stored is rejected as already loaded).
    """

    kind: str
    module: str
    reads: str
    table: str
    merge_key: tuple[str, ...]
    after: tuple[str, ...] = ()
    options: frozenset[str] = FILE_OPTIONS
    writes: str = "merge"

    def flags(self) -> list[str]:
        """The options of ``etl load`` it takes, as written on the command line (``--crs`` …)."""
        return [flag for option, flag in OPTION_FLAGS.items() if option in self.options]

    def job_module(self) -> ModuleType:
        """The job's module, imported.

        Raises
        ------
        ConfigError
            When the module is not installed or has no ``load()``.
        """
        try:
            module = importlib.import_module(self.module)
        except ModuleNotFoundError as exc:
            if exc.name != self.module:
                raise
            raise ConfigError(
                f"no loader for {self.kind!r} in this installation (module {self.module} is missing)"
            ) from exc
        if not callable(getattr(module, "load", None)):
            raise ConfigError(f"module {self.module} has no load() function")
        return module


# In load order: every job comes after the jobs it names in ``after``.
JOBS: tuple[Job, ...] = (
    Job(
        "jurisdictions",
        "etl.jobs.jurisdictions",
        "squad jurisdiction polygons (辖区): Shapefile, GeoPackage, GeoJSON, KML",
        "squads",
        ("code",),
    ),
    Job(
        "stations",
        "etl.jobs.stations",
        "squad station points (中队驻地): CSV/XLSX with lon/lat, or any point file",
        "squads",
        ("code",),
        after=("jurisdictions",),
    ),
    Job(
        "streets",
        "etl.jobs.streets",
        "street segments with door-number ranges: Shapefile, GeoPackage, GeoJSON",
        "street_segments",
        ("segment_key",),
        after=("jurisdictions",),
    ),
    Job(
        "basemap",
        "etl.jobs.basemap",
        "extra basemap layers (water, green space, buildings): GeoPackage, Shapefile, GeoJSON",
        "basemap_features",
        ("feature_key",),
    ),
    Job(
        "places",
        "etl.jobs.places",
        "named places (小区, schools, markets …): CSV/XLSX with lon/lat, or any point file",
        "places",
        ("place_key",),
    ),
    Job(
        "chiefs",
        "etl.jobs.chiefs",
        "the street-chief roster (街路长): XLSX/CSV, no coordinates",
        "street_chiefs",
        ("code",),
        after=("jurisdictions", "streets"),
        options=frozenset({"mapping", "encoding"}),
    ),
    Job(
        "routes",
        "etl.jobs.routes",
        "sanitation routes (清扫路线): KML/KMZ, GPX, GeoJSON, Shapefile",
        "sanitation_routes",
        ("route_code",),
        after=("jurisdictions", "streets"),
    ),
    Job(
        "gps",
        "etl.jobs.gps",
        "GPS tracks: patrol GPX, vehicle CSV/XLSX",
        "gps_fixes",
        ("subject_kind", "subject_id", "ts"),
        after=("streets",),
        writes="copy",
    ),
    Job(
        "roster",
        "etl.jobs.roster",
        "the duty roster (排班): XLSX/CSV with 工号/日期/开始/结束, no coordinates",
        "duty_roster",
        ("chief_code", "duty_date", "starts_at"),
        after=("chiefs",),
        options=frozenset({"mapping", "encoding"}),
    ),
    Job(
        "cases",
        "etl.jobs.cases",
        "the provincial case export: CSV (GBK/UTF-8), XLSX",
        "cases",
        ("case_number",),
        after=("jurisdictions", "streets", "places"),
        options=FILE_OPTIONS | {"accept_foreign"},
    ),
)

_BY_KIND = {entry.kind: entry for entry in JOBS}


def kinds() -> list[str]:
    """Every job's kind, in load order."""
    return [entry.kind for entry in JOBS]


def job(kind: str) -> Job:
    """The job registered as ``kind``.

    Raises
    ------
    UnknownNameError
        For an unknown kind; the message lists the known ones.
    """
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise UnknownNameError("ETL job", kind, kinds()) from None


def requirements(kind: str) -> list[str]:
    """The kinds ``kind`` needs loaded first, directly or through others, in load order."""
    needed: set[str] = set()
    pending = list(job(kind).after)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending += job(name).after
    return [k for k in kinds() if k in needed]


def order_problems(jobs: tuple[Job, ...] = JOBS) -> list[str]:
    """Why ``jobs`` is not a valid registry: repeated kinds, unknown or later ``after`` kinds, unknown options."""
    problems: list[str] = []
    seen: list[str] = []
    for entry in jobs:
        if entry.kind in seen:
            problems.append(f"{entry.kind}: declared twice")
        for name in entry.after:
            if name not in seen:
                problems.append(f"{entry.kind}: comes after {name!r}, which is not declared before it")
        for option in sorted(entry.options - set(OPTION_FLAGS)):
            problems.append(f"{entry.kind}: unknown option {option!r}")
        if not entry.merge_key or entry.writes not in {"merge", "copy"}:
            problems.append(f"{entry.kind}: needs a merge key and writes 'merge' or 'copy'")
        seen.append(entry.kind)
    return problems


def markdown_table() -> str:
    """The job table of the README (``python -m etl jobs --markdown`` prints it), one row per job in load order."""
    lines = [
        "| kind | reads | writes | natural key | after | options |",
        "|---|---|---|---|---|---|",
    ]
    for entry in JOBS:
        how = "merge into" if entry.writes == "merge" else "new rows into"
        lines.append(
            f"| `{entry.kind}` | {entry.reads} | {how} `{entry.table}` | {', '.join(entry.merge_key)} | "
            f"{', '.join(entry.after) or '—'} | {' '.join(entry.flags())} |"
        )
    return "\n".join(lines)


if order_problems():  # a broken declaration stops at import, before any job runs
    raise ConfigError("etl/jobs/registry.py: " + "; ".join(order_problems()))
