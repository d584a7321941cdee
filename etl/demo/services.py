"""The processes of ``make demo`` in one place: dashboard, ingest API, warnings, simulator; stopped together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    """One long-running process of the demo."""

    name: str
    argv: tuple[str, ...]
    delay_s: float = 0.0  # wait this long after the previous service started (the API before the simulator)


def demo_services() -> list[Service]:
    """The demo's services, in start order (each its own process; production runs each under its own unit)."""
    python = sys.executable
    services = [
        Service("dashboard", (python, "-m", "dashboard")),
        Service("api", (python, "-m", "etl", "api")),
    ]
    services.append(Service("alerts", (python, "-m", "alerts", "run")))
    services.append(Service("simulator", (python, "-m", "etl", "simulate", "--speed", "20"), delay_s=3.0))
    return services


def run_services(services: list[Service]) -> int:
    """Start every service, wait until one ends or Ctrl-C, then stop them all; returns the exit code."""
    running: list[tuple[Service, subprocess.Popen]] = []
    try:
        for service in services:
            time.sleep(service.delay_s)
            print(f"starting {service.name}: {' '.join(service.argv[1:])}", flush=True)
            running.append((service, subprocess.Popen(service.argv)))
        while True:
            for service, process in running:
                code = process.poll()
                if code is not None and service.name != "simulator":
                    print(f"{service.name} ended with exit code {code}; stopping the demo", flush=True)
                    return code or 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("stopping the demo", flush=True)
        return 0
    finally:
        for _, process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
