"""Drive the ingest API like real devices: replay a day of the demo's GPS tracks and case events live.

``python -m etl simulate --speed N``: the demo's latest GPS day (and the cases received on that day)
is mapped onto today by time of day. The loaded demo files end at midnight (their last day is
yesterday); the simulated clock starts ``--backfill-hours`` before now (default: at today's
midnight, so today has no hole), catches up with now at N× but never slower than in
``--catch-up-s`` seconds, then runs at 1×: the wall shows live positions within a minute of the
start. Every fix and event whose time has come is posted, batched per device (cases in one
batch), with retries on 503, 429 (after Retry-After) and timeouts. Nothing is ever sent from the future.
"""

from __future__ import annotations

import datetime as dt
import time
import zlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import requests

from etl.gps.pipeline import read_source
from etl.gps.track_files import GPS_SUFFIXES, gps_sources
from etl.jobs._case_checks import STAGES, parse_time
from etl.mapping import load_mapping
from etl.readers.input_files import source_files
from etl.readers.tabular import CSV_SUFFIXES, read_table
from geo.crs import to_wgs84
from geo.region import Region

NS = 1_000_000_000
RETRIES = 8
CATCH_UP_S = 30.0  # the backfill up to now takes at most this long (real seconds)
MAX_BATCH = 2000  # items per request (the API takes up to EGIS_API_MAX_BATCH)
PLATFORM_LANES = 8  # parallel batches per tick while catching up (the pool's threads)
LIVE_S = 300  # a fix at most this old when accepted counts as live (the wall's online limit)
CASE_FIELDS = ("category", "domain", "procedure_type", "source", "description", "address", "reported_squad")


@dataclass(order=True)
class Item:
    """One fix or event to send at ``second`` (seconds after local midnight of the replayed day)."""

    second: float
    kind: str = field(compare=False)  # "gps" or "cases"
    group: str = field(compare=False)  # device (batches per device) or "cases"
    body: dict[str, Any] = field(compare=False, default_factory=dict)


def gps_items(gps_dir: Path, region: Region) -> tuple[dt.date | None, list[Item]]:
    """Every fix of the latest local day in the demo's GPS files, as it would be sent (with its CRS)."""
    mapping = load_mapping("gps")
    parts = []
    with source_files(gps_dir, GPS_SUFFIXES) as files:
        for source in gps_sources(files):
            fixes = read_source(source, region, mapping)
            frame = fixes.frame
            if len(frame) == 0:
                continue
            x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
            crs = "gcj02" if fixes.source_crs == "gcj02" else "wgs84"
            if crs == "wgs84":
                x, y = to_wgs84(x, y, fixes.source_crs)
            parts.append((source.subject_kind, frame["subject"].to_numpy(), frame["ts"].to_numpy(), x, y, crs))
    if not parts:
        return None, []
    offset = region.tz.utcoffset(dt.datetime(2000, 1, 1)).total_seconds()
    days = np.concatenate([(p[2] // NS + offset) // 86400 for p in parts])
    last_day = int(days.max())
    items = []
    for kind, subjects, ts, x, y, crs in parts:
        local = ts // NS + offset
        on_day = local // 86400 == last_day
        for subject, second, lon, lat in zip(
            subjects[on_day], local[on_day] % 86400, x[on_day], y[on_day], strict=True
        ):
            body = {"device": str(subject), "lon": round(float(lon), 7), "lat": round(float(lat), 7), "crs": crs}
            items.append(Item(float(second), "gps", f"{kind}:{subject}", {**body, "kind": kind}))
    return dt.date(1970, 1, 1) + dt.timedelta(days=last_day), items


def case_items(cases_dir: Path, day: dt.date, region: Region) -> list[Item]:
    """The events (received, dispatched, arrived, closed) of the cases received on ``day`` in the newest export."""
    mapping = load_mapping("cases")
    with source_files(cases_dir, CSV_SUFFIXES) as files:
        if not files:
            return []
        newest = sorted(files, key=lambda f: f.name)[-1]
        table = read_table(newest.path, encoding=newest.encoding, name=newest.name)
    frame = mapping.apply(table.frame, newest.name)
    items = []
    for values in frame.to_dict("records"):
        times = {}
        for stage in STAGES:
            try:
                times[stage] = parse_time(str(values.get(stage) or ""), region.tz)
            except ValueError:
                times[stage] = None
        received = times["received_at"]
        if received is None or received.astimezone(region.tz).date() != day:
            continue
        fields = {k: str(values[k]) for k in CASE_FIELDS if str(values.get(k) or "").strip()}
        for k in ("lon", "lat"):
            if str(values.get(k) or "").strip():
                fields[k] = str(values[k])
        for stage, when in times.items():
            if when is None or when.astimezone(region.tz).date() != day:
                continue
            local = when.astimezone(region.tz)
            body = {"case_number": str(values["case_number"]), "stage": stage.removesuffix("_at")}
            if stage == "received_at":
                body.update(fields)
            second = local.hour * 3600 + local.minute * 60 + local.second
            items.append(Item(float(second), "cases", "cases", body))
    return items


def _sender(group: str, catching_up: bool) -> str:
    """Who posts a device's items: the device itself when live; while catching up, one of
    ``PLATFORM_LANES`` vendor-platform lanes (a device always in the same lane, so its fixes stay
    in order), which keeps the request rate under the API's per-token limit."""
    return f"lane{zlib.crc32(group.encode()) % PLATFORM_LANES}" if catching_up and group != "cases" else group


class Simulator:
    """Posts the items whose time has come, per device, with retries."""

    def __init__(
        self,
        api: str,
        token: str,
        region: Region,
        speed: float,
        backfill_hours: float | None = None,
        *,
        catch_up_s: float = CATCH_UP_S,
        replay_at: float | None = None,
    ) -> None:
        """A simulator posting to ``api`` with ``token``.

        Parameters
        ----------
        api, token, region
            Base URL of the ingest API, its bearer token, the region (time zone).
        speed
            Simulated seconds per real second while catching up with now (at least).
        backfill_hours
            Start the replay this long before now; None: at midnight (the replayed day's start).
        catch_up_s
            The backfill takes at most this many real seconds (the speed is raised to fit).
        replay_at
            Second of the replayed day that corresponds to the real now (default: now's time of day);
            every item is sent stamped at now + (its second − ``replay_at``).
        """
        self.api, self.token, self.region = api.rstrip("/"), token, region
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        now = dt.datetime.now(region.tz)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.now_second = (now - midnight).total_seconds() if replay_at is None else float(replay_at)
        self.midnight = now - dt.timedelta(seconds=self.now_second)  # the replayed day's midnight, mapped
        self.started = time.monotonic()
        backfill = self.now_second if backfill_hours is None else backfill_hours * 3600
        self.start_second = max(0.0, self.now_second - backfill)
        lag = self.now_second - self.start_second
        self.speed = max(speed, lag / max(catch_up_s, 1e-3), 1.0)
        self.sent = {"gps": 0, "cases": 0}
        self.answers = {"accepted": 0, "duplicates": 0, "rejected": 0}
        self.sent_until = self.start_second  # everything due up to this simulated second was sent
        self.first_live: float | None = None  # real seconds after the start when the first live fix was accepted

    def clock(self) -> float:
        """Seconds after (mapped) midnight of the simulated now: fast from the start, never later than the real now."""
        elapsed = time.monotonic() - self.started
        return min(self.now_second + elapsed, self.start_second + elapsed * self.speed)

    def post_all(self, kind: str, items: list[Item]) -> None:
        """``items`` in batches of at most ``MAX_BATCH``, one after the other (a device's fixes stay in order)."""
        for first in range(0, len(items), MAX_BATCH):
            self.post(kind, items[first : first + MAX_BATCH])

    def post(self, kind: str, items: list[Item]) -> None:
        """One batch, retried on 503 / 429 / timeouts; other errors are printed and dropped."""
        key = "fixes" if kind == "gps" else "events"
        batch = []
        for item in items:
            when = self.midnight + dt.timedelta(seconds=item.second)
            batch.append({**item.body, "time": when.isoformat()})
        for attempt in range(RETRIES):
            try:
                response = self.session.post(f"{self.api}/api/v1/{kind}", json={key: batch}, timeout=30)
            except requests.RequestException:
                time.sleep(min(30, 2**attempt))
                continue
            if response.status_code in (429, 503):
                time.sleep(float(response.headers.get("Retry-After", 2**attempt)))
                continue
            if response.status_code == 200:
                answer = response.json()
                self.sent[kind] += len(batch)
                self.answers["accepted"] += answer["accepted"]
                self.answers["duplicates"] += answer["duplicates"]
                self.answers["rejected"] += len(answer["rejected"])
                newest = max(item.second for item in items)
                if kind == "gps" and self.first_live is None and answer["accepted"] and self._is_live(newest):
                    self.first_live = time.monotonic() - self.started
            else:
                print(f"{kind} batch refused: {response.status_code} {response.text[:200]}")
            return
        print(f"{kind} batch of {len(batch)} dropped after {RETRIES} attempts")

    def _is_live(self, second: float) -> bool:
        """True when a fix of the replayed ``second`` is, now, recent enough to show as online."""
        real = self.now_second + time.monotonic() - self.started
        return real - second <= LIVE_S

    def run(
        self, items: list[Item], until_now: bool = False, tick_s: float = 1.0, for_s: float | None = None
    ) -> dict[str, int]:
        """Send everything up to the end of the day (or, with ``until_now``, up to the real now; with
        ``for_s``, for that many real seconds), then return."""
        items = sorted(i for i in items if i.second >= self.start_second)
        position = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            while position < len(items):
                now = self.clock()
                due = []
                while position < len(items) and items[position].second <= now:
                    due.append(items[position])
                    position += 1
                real = self.now_second + time.monotonic() - self.started
                catching_up = now < real - LIVE_S
                groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
                for item in due:
                    groups[(item.kind, _sender(item.group, catching_up))].append(item)
                list(pool.map(lambda entry: self.post_all(entry[0][0], entry[1]), groups.items()))
                self.sent_until = now
                if until_now and now >= real - 1:
                    break
                if for_s is not None and time.monotonic() - self.started >= for_s:
                    break
                time.sleep(tick_s)
        return {**{f"sent_{k}": v for k, v in self.sent.items()}, **self.answers}
