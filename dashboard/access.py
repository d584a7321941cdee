"""What the current request may read: the ``Scope`` every callback passes to the layers.

Until logins exist (access-control issue) every page gets a fixed scope: the wall display
aggregates only, the other pages case rows with personal data masked.
"""

from __future__ import annotations

from layers.base import Scope

WALL = "wall"


def request_scope(page: str) -> Scope:
    """The scope of the current request on ``page`` (``"wall"``, ``"squad"``, ``"street"``, ``"cases"``, ``"home"``).

    The access-control issue replaces this with the logged-in user's role; every callback
    already calls it, so the restriction is applied where data is read.
    """
    if page == WALL:
        return Scope(aggregates_only=True, personal_data=False)
    return Scope(personal_data=False)
