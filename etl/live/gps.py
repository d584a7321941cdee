"""Ingest one batch of GPS fixes: the file load's checks and cleaning, then append to each device's track.

A batch is one ETL run (``etl_runs`` job ``api_gps``, source ``api:<source>``): every item is
stored as a fix (or folded into a stop), or kept in ``etl_rejects`` with its reason and index.
Fixes are taken per device in time order: a fix at or before the device's last stored fix is a
duplicate (same time stored) or rejected. New fixes continue the device's last trip when within
the trip gap, are matched to the streets, and extend the last segment visit or append new ones,
so nothing stored is matched again.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.gps.checks import implausible_time, outside_region
from etl.gps.clean import clean
from etl.gps.config import GpsConfig
from etl.gps.derive import derive, visits
from etl.gps.fix_writer import FIX_COLUMNS, VISIT_COLUMNS, copy_binary, encode_fixes, encode_visits
from etl.gps.subjects import resolve_devices
from etl.live.outcome import DUPLICATE, Outcome, run_batch
from etl.live.streets import street_index
from etl.offset_check import offset_warning
from etl.runs import Run
from geo.crs import from_wgs84, normalize_crs, to_wgs84
from geo.errors import ConfigError
from geo.region import Region, get_region

JOB = "api_gps"
CRS_NAMES = ("wgs84", "gcj02", "cgcs2000")
SUBJECT_KINDS = ("patrol", "sanitation")
OFFSET_CHECK_MIN = 50  # fixes of one declared CRS in a batch before the GCJ-02 check is worth its query
_OFFSET_CHECKED: set[tuple[str, str]] = set()  # (source, crs) checked once per process: a wrong CRS is systematic
NS = 1_000_000_000
LAST_FIX_HORIZON = dt.timedelta(days=1)  # how far before a batch its devices' last fixes are looked for


def ingest_fixes(
    engine: Engine | Connection, source: str, items: list[Any], config: GpsConfig | None = None
) -> Outcome:
    """Store a batch of fixes sent by ``source`` as one run; the answer says what became of each item.

    Parameters
    ----------
    engine
        Where to store, or the request's connection (its transaction is committed here).
    source
        The token's source name (recorded on the run).
    items
        The fixes as sent: ``device``, ``time`` (ISO 8601 with offset), ``lon``, ``lat``, ``crs``,
        optional ``speed`` (m/s), ``heading`` (degrees), ``kind`` (``patrol`` or ``sanitation``).
    config
        Cleaning and matching thresholds (defaults of :class:`GpsConfig`).
    """
    region = get_region()
    config = config or GpsConfig()
    return run_batch(engine, JOB, source, items, lambda conn, run: LiveFixes(conn, run, region, config).load(items))


def parse_fix(item: Any) -> dict[str, Any]:
    """One item of a batch as a fix (``kind``, ``subject``, ``ts`` ns, ``x``, ``y``, ``crs``, ``speed``, ``heading``).

    Raises
    ------
    ValueError
        With every problem of the item, joined (``device is missing; lat is not a number``).
    """
    if not isinstance(item, dict):
        raise ValueError("a fix must be an object with device, time, lon, lat, crs")
    problems: list[str] = []
    device = str(item.get("device") or "").strip()
    if not device:
        problems.append("device is missing")
    elif len(device) > 64:
        problems.append("device is longer than 64 characters")
    kind = str(item.get("kind") or "patrol").strip()
    if kind not in SUBJECT_KINDS:
        problems.append(f"kind must be one of {', '.join(SUBJECT_KINDS)}, not {kind!r}")
    ts = None
    raw_time = item.get("time")
    try:
        when = dt.datetime.fromisoformat(str(raw_time).strip())
        if when.tzinfo is None:
            problems.append(
                f"time {raw_time!r} has no UTC offset (ISO 8601 with offset, e.g. 2026-11-30T08:15:00+08:00)"
            )
        else:
            ts = int(when.timestamp() * 1_000_000) * 1000
    except (TypeError, ValueError):
        problems.append(f"time {raw_time!r} is not an ISO 8601 time")
    coords = {}
    for name in ("lon", "lat"):
        value = _number(item.get(name))
        if value is None:
            problems.append(f"{name} is not a number: {item.get(name)!r}")
        coords[name] = value
    crs_name = str(item.get("crs") or "wgs84").strip().lower()
    crs = None
    if crs_name not in CRS_NAMES:
        problems.append(f"crs must be one of {', '.join(CRS_NAMES)}, not {item.get('crs')!r}")
    else:
        try:
            crs = normalize_crs(crs_name)
        except ConfigError as exc:  # pragma: no cover - the three names are known
            problems.append(str(exc))
    optional = {}
    for name in ("speed", "heading"):
        raw = item.get(name)
        value = _number(raw) if raw not in (None, "") else math.nan
        if value is None or (name == "speed" and value < 0):
            problems.append(f"{name} is not a valid number: {raw!r}")
        optional[name] = math.nan if value is None else value
    if problems:
        raise ValueError("; ".join(problems))
    return {
        "kind": kind,
        "subject": device,
        "ts": ts,
        "x": coords["lon"],
        "y": coords["lat"],
        "crs": crs,
        "speed": optional["speed"],
        "heading": optional["heading"],
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class LiveFixes:
    """The work of one batch inside its run's transaction."""

    def __init__(self, conn: Connection, run: Run, region: Region, config: GpsConfig) -> None:
        self.conn, self.run, self.region, self.config = conn, run, region, config
        self.items: list[Any] = []

    def reject(self, indices: Any, reasons: str | list[str]) -> None:
        """Reject the items at ``indices`` (one reason, or one each)."""
        indices = [int(i) for i in indices]
        reasons = [reasons] * len(indices) if isinstance(reasons, str) else reasons
        for index, reason in zip(indices, reasons, strict=True):
            self.run.reject(index, self.items[index], reason)

    def load(self, items: list[Any]) -> None:
        """Parse, check, clean, deduplicate against the stored track, derive and store."""
        self.items = items
        frame = self._parse(items)
        if len(frame) == 0:
            return
        frame = self._resolved(frame)
        if len(frame) == 0:
            return
        frame = self._checked(frame)
        if len(frame) == 0:
            return
        self._lock(frame)
        last = self._last_fixes(frame)
        frame = self._after_last(frame, last)
        if len(frame) == 0:
            return
        frame["x"], frame["y"] = from_wgs84(frame["lon"].to_numpy(), frame["lat"].to_numpy(), self.region.metric_crs)
        frame["key"] = pd.factorize(frame["kind"] + "\x1f" + frame["subject"])[0]
        cleaned = clean(frame, self.config, self._anchors(frame, last))
        labels = list(cleaned.rejected)
        reasons = [
            DUPLICATE + reason if reason.startswith("duplicate fix") else reason for reason in cleaned.rejected.values()
        ]
        self.reject(frame.loc[labels, "row"].tolist(), reasons)
        self.run.loaded += len(cleaned.collapsed)
        if len(cleaned.kept):
            self._store(cleaned.kept, last)
        for name, value in cleaned.stats.items():
            if value:
                self.run.stats[name] = value

    def _parse(self, items: list[Any]) -> pd.DataFrame:
        rows = []
        for index, item in enumerate(items):
            try:
                fix = parse_fix(item)
            except ValueError as exc:
                self.reject([index], str(exc))
                self.run.stats["malformed"] = self.run.stats.get("malformed", 0) + 1
                continue
            rows.append({**fix, "row": index})
        return pd.DataFrame(rows)

    def _resolved(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each fix under the subject holding its device at its time (:mod:`etl.gps.subjects`); unknowns rejected."""
        found = resolve_devices(
            self.conn, frame["kind"].to_numpy(), frame["subject"].to_numpy(), frame["ts"].to_numpy()
        )
        self.reject(frame.loc[found.unknown, "row"], found.reasons)
        frame = frame.assign(kind=found.kind, subject=found.subject)
        return frame[~found.unknown].reset_index(drop=True)

    def _checked(self, frame: pd.DataFrame) -> pd.DataFrame:
        """WGS-84 coordinates per declared CRS; the region and time checks of the file load."""
        frame = frame.reset_index(drop=True)
        frame["lon"], frame["lat"] = np.nan, np.nan
        for crs, part in frame.groupby("crs"):
            lon, lat = to_wgs84(part["x"].to_numpy(), part["y"].to_numpy(), crs)
            frame.loc[part.index, "lon"], frame.loc[part.index, "lat"] = lon, lat
        outside, reasons = outside_region(
            frame["lon"].to_numpy(), frame["lat"].to_numpy(), self.region, self.config.region_margin_deg
        )
        self.reject(frame.loc[outside, "row"], reasons)
        frame = frame[~outside]
        untimely, reasons = implausible_time(frame["ts"].to_numpy(), self.region)
        self.reject(frame.loc[untimely, "row"], reasons)
        frame = frame[~untimely].copy()
        for crs, part in frame.groupby("crs"):
            if len(part) >= OFFSET_CHECK_MIN and (self.run.source_path, str(crs)) not in _OFFSET_CHECKED:
                _OFFSET_CHECKED.add((self.run.source_path, str(crs)))
                points = shapely.points(part["lon"].to_numpy(), part["lat"].to_numpy())
                warning = offset_warning(self.conn, points, str(crs), self.region)
                if warning:
                    self.run.warn(warning)
        frame["file"] = 0
        frame["pos"] = frame["row"]
        return frame

    def _lock(self, frame: pd.DataFrame) -> None:
        """Hold a lock per device until the run commits: two requests for one device take turns."""
        keys = sorted(set("gps:" + frame["kind"] + ":" + frame["subject"]))
        self.conn.execute(
            text(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext(k) AS h "
                "FROM unnest(CAST(:keys AS text[])) k ORDER BY 1) q"
            ),
            {"keys": keys},
        )

    def _last_fixes(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The last stored fix of each device of the batch, looked for from a day before the batch's
        first fix (gps_fixes is partitioned by day: only those partitions are read). An older last fix
        neither rejects a fix of the batch (all are after it) nor continues its trip (the gap is longer
        than any trip gap), so it does not matter."""
        devices = frame[["kind", "subject"]].drop_duplicates()
        since = pd.Timestamp(int(frame["ts"].min()), tz="UTC").to_pydatetime() - LAST_FIX_HORIZON
        rows = self.conn.execute(
            text(
                "SELECT d.k, d.s, f.ts_us, f.lon, f.lat, f.trip_id, f.segment_id FROM "
                "unnest(CAST(:k AS text[]), CAST(:s AS text[])) AS d(k, s) CROSS JOIN LATERAL "
                "(SELECT (extract(epoch FROM g.ts) * 1000000)::bigint AS ts_us, ST_X(g.geom) AS lon, "
                "ST_Y(g.geom) AS lat, g.trip_id, g.segment_id FROM gps_fixes g WHERE g.subject_kind = d.k "
                "AND g.subject_id = d.s AND g.ts >= :since ORDER BY g.ts DESC LIMIT 1) f"
            ),
            {"k": devices["kind"].tolist(), "s": devices["subject"].tolist(), "since": since},
        ).all()
        return pd.DataFrame(rows, columns=["kind", "subject", "ts_us", "lon", "lat", "trip", "segment"])

    def _after_last(self, frame: pd.DataFrame, last: pd.DataFrame) -> pd.DataFrame:
        """Drop fixes at or before their device's last stored fix: duplicates when stored at that time, else rejects."""
        if len(last) == 0:
            return frame
        merged = frame.merge(last[["kind", "subject", "ts_us"]], on=["kind", "subject"], how="left")
        merged.index = frame.index
        late = merged["ts_us"].notna().to_numpy() & (
            frame["ts"].to_numpy() // 1000 <= merged["ts_us"].fillna(0).to_numpy()
        )
        if not late.any():
            return frame
        old = frame[late]
        stored = self.conn.execute(
            text(
                "SELECT u.i FROM unnest(CAST(:i AS int[]), CAST(:k AS text[]), CAST(:s AS text[]), "
                "CAST(:t AS timestamptz[])) AS u(i, k, s, t) WHERE EXISTS (SELECT 1 FROM gps_fixes g "
                "WHERE g.subject_kind = u.k AND g.subject_id = u.s AND g.ts = u.t AND g.ts >= :lo AND g.ts <= :hi)"
            ),
            {
                "lo": pd.Timestamp(int(old["ts"].min()), tz="UTC").to_pydatetime(),
                "hi": pd.Timestamp(int(old["ts"].max()), tz="UTC").to_pydatetime(),
                "i": old["row"].astype(int).tolist(),
                "k": old["kind"].tolist(),
                "s": old["subject"].tolist(),
                "t": pd.to_datetime(old["ts"], utc=True).dt.to_pydatetime().tolist(),
            },
        ).scalars()
        same = set(stored)
        for index, ts_us in zip(old["row"].astype(int), merged.loc[late, "ts_us"], strict=True):
            if index in same:
                self.reject([index], DUPLICATE + "a fix of this device at this time is already stored")
            else:
                when = dt.datetime.fromtimestamp(ts_us / 1e6, dt.UTC).astimezone(self.region.tz)
                self.reject([index], f"fix is not after the device's last accepted fix ({when:%Y-%m-%d %H:%M:%S})")
        return frame[~late]

    def _stored_rows(self, last: pd.DataFrame, **columns: Any) -> pd.DataFrame:
        """Rows of the batch frame's shape (plus ``columns``) for the stored last fixes ``last``."""
        x, y = from_wgs84(last["lon"].to_numpy(), last["lat"].to_numpy(), self.region.metric_crs)
        return pd.DataFrame(
            {
                "kind": last["kind"].to_numpy(),
                "subject": last["subject"].to_numpy(),
                "ts": last["ts_us"].to_numpy(dtype=np.int64) * 1000,
                "lon": last["lon"].to_numpy(),
                "lat": last["lat"].to_numpy(),
                "x": x,
                "y": y,
                "row": -1,
                **columns,
            }
        )

    def _anchors(self, frame: pd.DataFrame, last: pd.DataFrame) -> pd.DataFrame:
        """Each device's last stored fix as a cleaning anchor (labels after the batch's, ``key`` of the batch)."""
        keys = frame.drop_duplicates(["kind", "subject"])[["kind", "subject", "key"]]
        anchors = last.merge(keys, on=["kind", "subject"])
        rows = self._stored_rows(anchors, key=anchors["key"].to_numpy(), file=0)
        start = int(frame.index.max()) + 1 if len(frame) else 0
        return rows.set_axis(pd.RangeIndex(start, start + len(rows)))

    def _store(self, kept: pd.DataFrame, last: pd.DataFrame) -> None:
        """Derive trips, matches and visits continuing each device's stored track; COPY fixes and new visits."""
        streets = street_index(self.conn, self.region.metric_crs, self.config.match_tolerance_m)
        kept = kept.assign(context=False)
        gap_ns = int(self.config.trip_gap_s * NS)
        first_ts = kept.groupby(["kind", "subject"])["ts"].min().rename("first_ts").reset_index()
        context = last.merge(first_ts, on=["kind", "subject"])
        context = context[(context["first_ts"] - context["ts_us"] * 1000) <= gap_ns]
        if len(context):
            rows = self._stored_rows(
                context,
                speed=np.nan,
                heading=np.nan,
                crs="EPSG:4326",
                context=True,
                stored_trip=context["trip"].to_numpy(dtype=float),
                stored_segment=context["segment"].to_numpy(dtype=float),
            )
            kept = pd.concat([rows, kept], ignore_index=True)
        frame = kept.sort_values(["kind", "subject", "ts"], kind="stable").reset_index(drop=True)
        frame["key"] = pd.factorize(frame["kind"] + "\x1f" + frame["subject"])[0]
        derived = derive(frame, streets, self.config)
        extend: list[dict[str, Any]] = []
        if "stored_trip" in derived:
            derived = self._continue_trips(derived)
            extend = self._extended_visits(derived)
        found = visits(derived)
        names = derived.drop_duplicates("key").set_index("key")
        found["kind"] = names["kind"].reindex(found["key"]).to_numpy()
        found["subject"] = names["subject"].reindex(found["key"]).to_numpy()
        context_starts = set(
            zip(derived.loc[derived["context"], "key"], derived.loc[derived["context"], "ts"], strict=True)
        )
        starts_at_context = np.array(
            [(k, t) in context_starts for k, t in zip(found["key"], found["entered"], strict=True)], dtype=bool
        )
        fresh = found[~starts_at_context] if len(found) else found
        new_fixes = derived[~derived["context"].to_numpy(dtype=bool)]
        copy_binary(self.conn, "gps_fixes", FIX_COLUMNS, encode_fixes(new_fixes, self.run.id))
        if len(fresh):
            copy_binary(self.conn, "segment_visits", VISIT_COLUMNS, encode_visits(fresh))
        if extend:  # one statement for every stored visit the batch extends
            self.conn.execute(
                text(
                    "UPDATE segment_visits v SET left_at = u.left_at, "
                    "dwell_s = extract(epoch FROM u.left_at - v.entered_at), n_fixes = v.n_fixes + u.more "
                    "FROM unnest(CAST(:left AS timestamptz[]), CAST(:more AS int[]), CAST(:k AS text[]), "
                    "CAST(:s AS text[]), CAST(:t AS int[]), CAST(:seg AS int[]), CAST(:was AS timestamptz[])) "
                    "AS u(left_at, more, k, s, t, seg, was) WHERE v.subject_kind = u.k AND v.subject_id = u.s "
                    "AND v.trip_id = u.t AND v.segment_id = u.seg AND v.left_at = u.was"
                ),
                {name: [visit[name] for visit in extend] for name in ("left", "more", "k", "s", "t", "seg", "was")},
            )
        self.run.loaded += len(new_fixes)
        self.run.stats["fixes_stored"] = self.run.stats.get("fixes_stored", 0) + len(new_fixes)
        self.run.stats["matched"] = int((new_fixes["segment"] >= 0).sum())
        self.run.stats["visits"] = len(fresh)
        self.run.stats["visits_extended"] = len(extend)

    @staticmethod
    def _continue_trips(derived: pd.DataFrame) -> pd.DataFrame:
        """Fixes in the same trip as their device's last stored fix take its stored trip id and segment."""
        derived = derived.copy()
        is_context = derived["context"].to_numpy(dtype=bool)
        trip = derived["trip"].to_numpy().copy()
        segment = derived["segment"].to_numpy().copy()
        stored_trip = derived["stored_trip"].to_numpy()
        stored_segment = derived["stored_segment"].to_numpy()
        key = derived["key"].to_numpy()
        for position in np.flatnonzero(is_context):
            same = (key == key[position]) & (trip == trip[position])
            if not math.isnan(stored_trip[position]):
                trip[same] = int(stored_trip[position])
            segment[position] = -1 if math.isnan(stored_segment[position]) else int(stored_segment[position])
        derived["trip"] = trip
        derived["segment"] = segment
        return derived

    @staticmethod
    def _extended_visits(derived: pd.DataFrame) -> list[dict[str, Any]]:
        """The stored visits the new fixes continue: the last fix's segment, entered again at once."""
        out = []
        found = visits(derived)
        key, ts = derived["key"].to_numpy(), derived["ts"].to_numpy(dtype=np.int64)
        kinds, subjects = derived["kind"].to_numpy(), derived["subject"].to_numpy()
        f_key, f_entered = found["key"].to_numpy(), found["entered"].to_numpy(dtype=np.int64)
        f_left, f_n = found["left"].to_numpy(dtype=np.int64), found["n_fixes"].to_numpy(dtype=np.int64)
        f_trip, f_segment = found["trip"].to_numpy(dtype=np.int64), found["segment"].to_numpy(dtype=np.int64)
        for position in np.flatnonzero(derived["context"].to_numpy(dtype=bool)):
            hit = np.flatnonzero((f_key == key[position]) & (f_entered == ts[position]))
            if len(hit) == 0 or f_n[hit[0]] < 2:
                continue
            v = hit[0]
            out.append(
                {
                    "left": _utc(int(f_left[v])),
                    "more": int(f_n[v]) - 1,
                    "k": str(kinds[position]),
                    "s": str(subjects[position]),
                    "t": int(f_trip[v]),
                    "seg": int(f_segment[v]),
                    "was": _utc(int(ts[position])),
                }
            )
        return out


def _utc(ns: int) -> dt.datetime:
    """Nanoseconds since the epoch (whole microseconds) as an aware datetime, exactly."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ns // 1000)
