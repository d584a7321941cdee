"""``make demo`` is one command: its services are listed in one place and stop together."""

from __future__ import annotations

import subprocess
import sys
import time

from etl.demo.services import Service, demo_services, run_services


def test_the_demo_runs_dashboard_api_and_simulator() -> None:
    names = [s.name for s in demo_services()]
    assert names[:2] == ["dashboard", "api"] and names[-1] == "simulator"
    assert demo_services()[1].argv[-2:] == ("etl", "api")


def test_one_service_ending_stops_the_others() -> None:
    marker = "import time; time.sleep(600)"
    services = [
        Service("api", (sys.executable, "-c", marker)),
        Service("dashboard", (sys.executable, "-c", "import sys; sys.exit(3)"), delay_s=0.2),
    ]
    began = time.monotonic()
    assert run_services(services) == 3
    assert time.monotonic() - began < 30
    left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert left.stdout.strip() == ""
