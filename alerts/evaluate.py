"""One evaluation cycle: every rule at one instant, each in its own transaction, timed."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from alerts.rules import RULES
from alerts.store import SyncResult, sync
from geo.region import Region, get_region

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """What one cycle did: per rule its sync result and seconds, the rules that failed, the total time."""

    at: dt.datetime
    results: dict[str, SyncResult] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    total_s: float = 0.0

    def line(self) -> str:
        """One log line: time, raised / kept / resolved, failures."""
        raised = sum(r.raised for r in self.results.values())
        kept = sum(r.kept for r in self.results.values())
        resolved = sum(r.resolved for r in self.results.values())
        slow = max(self.seconds, key=self.seconds.get) if self.seconds else "-"
        text = f"warnings evaluated in {self.total_s * 1000:.0f} ms: raised {raised}, open {kept}, resolved {resolved}"
        text += f" (slowest rule {slow})"
        if self.errors:
            text += f"; failed rules: {', '.join(sorted(self.errors))}"
        return text


def evaluate(
    engine: Engine, now: dt.datetime | None = None, rules: Iterable[str] | None = None, region: Region | None = None
) -> Evaluation:
    """Evaluate ``rules`` (default: all) at ``now`` (default: the current time) and sync the table.

    Each rule runs in its own transaction: a rule that fails leaves its warnings as they were
    (neither raised nor resolved) and is reported in ``errors``; the others still run.

    Parameters
    ----------
    engine
        The writer engine.
    now
        The evaluation instant (aware).
    rules
        Rule names (see :data:`alerts.rules.RULES`).
    region
        The region config (default: the configured one).

    Returns
    -------
    Evaluation
    """
    region = region or get_region()
    now = now or dt.datetime.now(region.tz)
    names = list(rules) if rules is not None else list(RULES)
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise KeyError(f"unknown warning rules {unknown}; known: {sorted(RULES)}")
    report = Evaluation(at=now)
    started = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        try:
            with engine.begin() as conn:
                findings = RULES[name][1](conn, now, region)
                report.results[name] = sync(conn, name, findings, now)
        except Exception as exc:  # one broken rule must not stop the others
            log.exception("warning rule %s failed", name)
            report.errors[name] = f"{type(exc).__name__}: {exc}"
        report.seconds[name] = time.perf_counter() - t0
    report.total_s = time.perf_counter() - started
    return report
