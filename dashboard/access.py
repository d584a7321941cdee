"""What the current request may read: the ``Scope`` every callback passes to the layers.

The scope comes from the logged-in user's role (``dashboard/auth``); the wall display is
always aggregates only and never shows personal data, whoever looks at it.
"""

from __future__ import annotations

from dataclasses import replace

from dashboard.auth.web import current_principal
from layers.base import Scope

WALL = "wall"


def request_scope(page: str) -> Scope:
    """The scope of the current request on ``page`` (``"wall"``, ``"squad"``, ``"street"``, ``"cases"``, ``"home"``).

    Raises
    ------
    PermissionError
        Without a logged-in user (answered 403).
    """
    scope = current_principal().scope
    if page == WALL:
        return replace(scope, aggregates_only=True, personal_data=False)
    return scope
