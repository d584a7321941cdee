"""The GPS load: read files in units, clean, map-match, derive visits, and COPY while the next unit is read."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from etl.gps.checks import implausible_time, outside_region
from etl.gps.clean import clean
from etl.gps.config import GpsConfig, config_from
from etl.gps.derive import derive, visits
from etl.gps.fix_writer import FIX_COLUMNS, VISIT_COLUMNS, BackgroundCopy, encode_fixes, encode_visits
from etl.gps.fixes import FileFixes
from etl.gps.gpx_fixes import read_gpx_fixes
from etl.gps.match import StreetIndex
from etl.gps.rederive import inside, rederive_windows, stop_intervals, stored_in_windows, windows_table
from etl.gps.subjects import resolve_devices
from etl.gps.track_files import GpsSource
from etl.gps.vehicle_csv import read_vehicle_table
from etl.mapping import Mapping
from etl.progress import track
from etl.readers.encoding import declared_encoding
from etl.runs import Run
from etl.source_crs import input_crs
from geo.crs import from_wgs84, to_wgs84
from geo.errors import EgisError
from geo.region import Region

UNIT_FIXES = 60_000  # fixes per unit of work: COPY of one unit overlaps reading the next
NS = 1_000_000_000
STAGES = ("read", "clean", "match", "visits", "load")


@dataclass
class GpsLoader:
    """Loads GPS sources as one ETL run (see :func:`etl.jobs.gps.load`)."""

    conn: Connection
    run: Run
    region: Region
    mapping: Mapping
    crs: str | None = None
    streets: StreetIndex | None = None
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        """Add the wall time and the CPU time of this thread spent in the block to stage ``name``."""
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - wall
            self.cpu[name] += time.thread_time() - cpu

    def load(self, sources: list[GpsSource]) -> None:
        """Read, clean, match and store every source; fill the run's counts, rejects and stats."""
        with self._stage("match"):
            if self.streets is None:
                tolerance = max(config_from(s.settings).match_tolerance_m for s in sources) if sources else 30.0
                self.streets = StreetIndex.from_db(self.conn, self.region.metric_crs, tolerance)
        if self.streets.empty:
            self.run.warn("no street network loaded: fixes are kept unmatched; run 'python -m etl rematch' later")
        writer = BackgroundCopy(self.conn)
        try:
            pending: list[tuple[GpsSource, FileFixes]] = []
            size = 0
            for source in track(sources, "GPS files"):
                if pending and source.settings != pending[0][0].settings:
                    self._unit(pending, writer)  # a unit shares one set of thresholds
                    pending, size = [], 0
                with self._stage("read"):
                    fixes = self._read(source)
                for part in split_by_subject(fixes, UNIT_FIXES):
                    pending.append((source, part))
                    size += len(part.frame)
                    if size >= UNIT_FIXES:
                        self._unit(pending, writer)
                        pending, size = [], 0
            if pending:
                self._unit(pending, writer)
            with self._stage("load"):
                writer.close()
        except BaseException:
            writer.close_quietly()
            raise
        self.run.stats.update({k: int(v) for k, v in sorted(self.counts.items())})
        self.run.stats["seconds"] = {k: round(v, 3) for k, v in self.seconds.items()}
        self.run.stats["cpu_seconds"] = {k: round(v, 3) for k, v in self.cpu.items()}

    # -- reading -------------------------------------------------------------------------------
    def _read(self, source: GpsSource) -> FileFixes:
        """Read one file (:func:`read_source`)."""
        return read_source(source, self.region, self.mapping, self.crs)

    def _frame(self, pending: list[tuple[GpsSource, FileFixes]]) -> tuple[pd.DataFrame, list[FileFixes]]:
        """One frame of the unit's valid fixes in WGS-84 and metres; parse rejects recorded."""
        files = [fixes for _, fixes in pending]
        parts = []
        for number, fixes in enumerate(files):
            self.run.read += fixes.read
            for row, raw, reason in fixes.rejects:
                self.run.reject(row, raw, reason, str(fixes.path))
            frame = fixes.frame
            crs = fixes.source_crs
            lon, lat = to_wgs84(frame["x"].to_numpy(), frame["y"].to_numpy(), crs)
            ts = frame["ts"].to_numpy() // 1000 * 1000  # PostgreSQL keeps microseconds
            parts.append(frame.assign(ts=ts, lon=lon, lat=lat, file=number, kind=fixes.subject_kind, crs=crs))
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return frame, files

    # -- one unit of work ----------------------------------------------------------------------
    def _unit(self, pending: list[tuple[GpsSource, FileFixes]], writer: BackgroundCopy) -> None:
        with self._stage("read"):
            frame, files = self._frame(pending)
            if len(frame) == 0:
                return
            config = config_from(pending[0][0].settings)
            frame = self._resolved(frame, files)
            frame = self._outside_region(frame, files, config.region_margin_deg)
            frame["x"], frame["y"] = from_wgs84(
                frame["lon"].to_numpy(), frame["lat"].to_numpy(), self.region.metric_crs
            )
            frame["key"] = pd.factorize(frame["kind"] + "\x1f" + frame["subject"])[0]

        with self._stage("clean"):
            cleaned = clean(frame, config)
            self._reject(frame, files, cleaned.rejected.keys(), cleaned.rejected.values())
            for name, value in cleaned.stats.items():
                self.counts[name] += value
            kept = cleaned.kept
        if len(kept) == 0:
            self.run.loaded += len(cleaned.collapsed)
            return

        # everything is computed as if nothing were stored nearby (the usual case) while the
        # previous unit is still being written; then one query checks that assumption
        derived, found, payloads = self._derive(kept, config, touched=set())
        with self._stage("load"):
            writer.drain()  # the connection is needed for the overlap query
        with self._stage("clean"):
            checked, touched = self._against_stored(kept, frame, files, config)
        if touched or len(checked) != len(kept):
            derived, found, payloads = self._derive(checked, config, touched)

        with self._stage("load"):
            for table, columns, payload in payloads:
                writer.submit(table, columns, payload)

        stored = len(derived)
        self.run.loaded += stored + len(cleaned.collapsed)
        self.counts["fixes_stored"] += stored
        self.counts["matched"] += int((derived["segment"] >= 0).sum())
        self.counts["visits"] += len(found)
        self.counts["trips"] += int(derived.drop_duplicates(["key", "trip"]).shape[0])

        if touched:
            with self._stage("visits"):
                writer.drain()
                windows = self._windows(derived[derived["key"].isin(touched)], config)
                fixes, written = rederive_windows(self.conn, windows, self.streets, config, self.region.metric_crs)
                self.counts["visits"] += written
                self.counts["rederived_fixes"] += fixes

    def _derive(
        self, kept: pd.DataFrame, config: GpsConfig, touched: set[int]
    ) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, tuple[str, ...], bytes]]]:
        """Trips, matches, visits (not for ``touched`` subjects: those are derived again from the database)
        and the COPY payloads."""
        with self._stage("match"):
            derived = derive(kept, self.streets, config)
        with self._stage("visits"):
            found = visits(derived[~derived["key"].isin(touched)] if touched else derived)
            names = derived.drop_duplicates("key").set_index("key")
            found["kind"] = names["kind"].reindex(found["key"]).to_numpy()
            found["subject"] = names["subject"].reindex(found["key"]).to_numpy()
        with self._stage("load"):
            payloads = []
            if len(derived):
                payloads.append(("gps_fixes", FIX_COLUMNS, encode_fixes(derived, self.run.id)))
            if len(found):
                payloads.append(("segment_visits", VISIT_COLUMNS, encode_visits(found)))
        return derived, found, payloads

    def _reject(
        self, frame: pd.DataFrame, files: list[FileFixes], labels: Iterable[int], reasons: str | Iterable[str]
    ) -> None:
        """Reject the fixes at index ``labels`` of ``frame`` with their reasons (one or one each)."""
        labels = np.asarray(list(labels), dtype=np.int64)
        if len(labels) == 0:
            return
        reasons = [reasons] * len(labels) if isinstance(reasons, str) else list(reasons)
        rows = frame.loc[labels, ["file", "row", "pos"]]
        rows = rows.assign(reason=reasons)
        for number, group in rows.groupby("file", sort=False):
            source = files[int(number)]
            contents = source.raw(group["pos"].to_numpy())
            for row, content, reason in zip(group["row"].tolist(), contents, group["reason"].tolist(), strict=True):
                self.run.reject(int(row), content, reason, str(source.path))

    def _resolved(self, frame: pd.DataFrame, files: list[FileFixes]) -> pd.DataFrame:
        """Each fix under the subject holding its device at its time (:mod:`etl.gps.subjects`); unknowns rejected."""
        found = resolve_devices(
            self.conn, frame["kind"].to_numpy(), frame["subject"].to_numpy(), frame["ts"].to_numpy()
        )
        self._reject(frame, files, frame.index[found.unknown], found.reasons)
        if found.unknown.any():
            self.counts["unknown_device"] += int(found.unknown.sum())
        frame = frame.assign(kind=found.kind, subject=found.subject)
        return frame[~found.unknown]

    def _outside_region(self, frame: pd.DataFrame, files: list[FileFixes], margin: float) -> pd.DataFrame:
        """Reject fixes outside the region or at an implausible time (:mod:`etl.gps.checks`)."""
        outside, reasons = outside_region(frame["lon"].to_numpy(), frame["lat"].to_numpy(), self.region, margin)
        self._reject(frame, files, frame.index[outside], reasons)
        self.counts["outside_region"] += int(outside.sum())
        frame = frame[~outside]
        untimely, reasons = implausible_time(frame["ts"].to_numpy(), self.region)
        self._reject(frame, files, frame.index[untimely], reasons)
        if untimely.any():
            self.counts["implausible_time"] += int(untimely.sum())
        return frame[~untimely]

    def _windows(self, kept: pd.DataFrame, config: GpsConfig) -> pd.DataFrame:
        """Per subject, the time spans of its fixes (split at trip gaps), widened by the trip gap."""
        key, ts = kept["key"].to_numpy(), kept["ts"].to_numpy()
        gap = int(config.trip_gap_s * NS)
        start = np.ones(len(key), dtype=bool)
        start[1:] = (key[1:] != key[:-1]) | (np.diff(ts) > gap)
        first = np.flatnonzero(start)
        last = np.append(first[1:], len(key)) - 1
        return pd.DataFrame(
            {
                "kind": kept["kind"].to_numpy()[first],
                "subject": kept["subject"].to_numpy()[first],
                "start": ts[first] - gap,
                "end": ts[last] + gap,
            }
        )

    def _against_stored(
        self, kept: pd.DataFrame, frame: pd.DataFrame, files: list[FileFixes], config: GpsConfig
    ) -> tuple[pd.DataFrame, set[int]]:
        """Drop fixes already stored (overlapping files); return the subjects whose trips must be derived again."""
        windows_table(self.conn, self._windows(kept, config))
        stored = stored_in_windows(self.conn)
        if len(stored) == 0:
            return kept, set()
        stored_key = (stored["kind"] + "\x1f" + stored["subject"]).to_numpy()
        kept_key = (kept["kind"] + "\x1f" + kept["subject"]).to_numpy()
        index = pd.MultiIndex.from_arrays([stored_key, stored["ts"].to_numpy(dtype=np.int64) * 1000])
        same = pd.MultiIndex.from_arrays([kept_key, kept["ts"].to_numpy()]).isin(index)
        spans = stop_intervals(stored)
        span_keys = (spans["kind"] + "\x1f" + spans["subject"]).tolist() if len(spans) else []
        in_stop = inside(kept["ts"].to_numpy(), kept_key, spans, span_keys) & ~same
        self._reject(frame, files, kept.index[same], "already loaded: a fix of this subject at this time is stored")
        self._reject(frame, files, kept.index[in_stop], "already loaded: inside a stop of this subject that is stored")
        self.counts["already_loaded"] += int(same.sum() + in_stop.sum())
        kept = kept[~(same | in_stop)]
        touched = set(kept["key"][pd.Series(kept_key[~(same | in_stop)]).isin(set(stored_key)).to_numpy()].tolist())
        return kept, touched


def split_by_subject(fixes: FileFixes, size: int) -> list[FileFixes]:
    """A big file (a month of every vehicle) as parts of about ``size`` fixes, each subject whole in one part.

    The first part carries the file's read count and parse rejects, so counts stay exact.
    """
    if len(fixes.frame) <= size * 3 // 2:
        return [fixes]
    counts = fixes.frame["subject"].value_counts(sort=False)
    part_of = pd.Series(np.cumsum(counts.to_numpy()) // size, index=counts.index)
    parts = []
    for number, (_, frame) in enumerate(fixes.frame.groupby(fixes.frame["subject"].map(part_of), sort=True)):
        parts.append(
            FileFixes(
                path=fixes.path,
                subject_kind=fixes.subject_kind,
                frame=frame,
                read=fixes.read if number == 0 else 0,
                raw=fixes.raw,
                source_crs=fixes.source_crs,
                rejects=fixes.rejects if number == 0 else [],
            )
        )
    return parts


def load_sources(
    conn: Connection,
    run: Run,
    sources: list[GpsSource],
    region: Region,
    mapping: Mapping,
    crs: str | None = None,
) -> None:
    """Load the GPS ``sources`` through ``conn`` as part of ``run`` (see :class:`GpsLoader`)."""
    GpsLoader(conn=conn, run=run, region=region, mapping=mapping, crs=crs).load(sources)


def read_source(source: GpsSource, region: Region, mapping: Mapping, crs: str | None = None) -> FileFixes:
    """Read one GPS file; messages and rejects name it as the user knows it (``a.zip!b.gpx``).

    Also read by the simulator (:mod:`etl.demo.simulate`), which replays the demo's tracks.
    """
    crs = input_crs(crs, source.settings, source=source.name)
    try:
        if source.format == "gpx":
            fixes = read_gpx_fixes(source.path, source.default_subject, source.subject_kind)
        else:
            timezone = str(source.settings.get("timezone") or region.timezone)
            fixes = read_vehicle_table(
                source.path,
                mapping,
                crs=crs,
                timezone=timezone,
                subject_kind=source.subject_kind,
                encoding=declared_encoding(source.settings),
            )
    except EgisError as exc:
        if str(source.path) == source.name:
            raise
        raise type(exc)(str(exc).replace(str(source.path), source.name)) from exc
    fixes.source_crs = crs
    fixes.path = Path(source.name)
    return fixes
