"""Errors of the planner: the reason a plan is impossible, with the partial result when there is one."""

from __future__ import annotations

from typing import Any

from geo.errors import EgisError


class PlanError(EgisError):
    """No plan is possible; ``reason`` is a short code, the message says why in Chinese and English."""

    def __init__(self, reason: str, message: str, partial: Any | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.partial = partial
