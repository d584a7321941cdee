"""``python -m alerts run [--once] [--interval 60] [--poll 5]``: evaluate the warning rules continuously.

The loop checks a cheap change token (newest fix, case change, visit) every ``--poll`` seconds and
evaluates when it moved, and at least every ``--interval`` seconds; each evaluation logs its time.
Every ``--maintenance`` seconds it also runs the partition maintenance of gps_fixes
(``geo/partitions.py``, the same as ``python -m etl maintenance``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import signal
import sys
import time

from alerts.evaluate import evaluate
from alerts.rules import RULES
from alerts.store import change_token
from geo.db import get_engine, writer_engine
from geo.partitions import run_gps_maintenance
from geo.region import get_region

log = logging.getLogger("alerts")


def _maintain() -> None:
    """One partition maintenance of gps_fixes (as the owner); a failure is logged, the loop goes on."""
    try:
        with get_engine().begin() as conn:
            log.info(run_gps_maintenance(conn, get_region().gps.retention_days).line())
    except Exception as exc:
        log.warning("partition maintenance failed: %s", exc)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m alerts", description="自动预警：按规则持续评估")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="evaluate the rules (continuously, or once)")
    run.add_argument("--once", action="store_true", help="one evaluation, then exit")
    run.add_argument("--interval", type=float, default=60.0, help="evaluate at least every N seconds (default 60)")
    run.add_argument("--poll", type=float, default=5.0, help="check for new data every N seconds (default 5)")
    run.add_argument("--rules", default="", help=f"comma-separated subset of {','.join(RULES)}")
    run.add_argument(
        "--maintenance",
        type=float,
        default=3600.0,
        help="run the gps_fixes partition maintenance every N seconds (default 3600; 0: never, a timer runs it)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    rules = [r for r in args.rules.split(",") if r] or None
    engine = writer_engine()
    if args.once:
        report = evaluate(engine, rules=rules)
        log.info(report.line())
        print(json.dumps({"seconds": round(report.total_s, 3), "errors": report.errors}, ensure_ascii=False))
        return 1 if report.errors else 0
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    last_token, last_run, last_maintenance = None, 0.0, -math.inf
    while not stop:
        if args.maintenance > 0 and time.monotonic() - last_maintenance >= args.maintenance:
            last_maintenance = time.monotonic()
            _maintain()
        try:
            with engine.connect() as conn:
                token = change_token(conn)
        except Exception as exc:  # database away: keep trying
            log.warning("database unreachable: %s", exc)
            token = None
        due = time.monotonic() - last_run >= args.interval
        if token is not None and (due or token != last_token):
            report = evaluate(engine, rules=rules)
            log.info(report.line())
            last_token, last_run = token, time.monotonic()
            with engine.connect() as conn:  # the evaluation itself changed warnings: not new data
                last_token = change_token(conn)
        time.sleep(args.poll)
    return 0


if __name__ == "__main__":
    sys.exit(main())
