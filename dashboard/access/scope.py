"""What the current request may read: the ``Scope`` every callback passes to the layers, and
which pages it may render.

The scope comes from the logged-in user's role (:mod:`dashboard.access.roles`); the wall display is
always aggregates only and never shows personal data, whoever looks at it. Pages are rendered
by Dash's page-content callback, which anyone logged in can call with any pathname: every
page's layout is wrapped by :func:`guard_page_layouts` so that it renders only for a role that
may open the page.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import dash
from dash import html

from dashboard.access.web import audit_request, current_principal
from layers.base import Scope

WALL = "wall"
# The path (prefix) of each page whose callbacks ask for a scope.
PAGE_PATHS = {
    "wall": "/wall",
    "squad": "/squad/",
    "street": "/street/",
    "cases": "/cases",
    "home": "/",
    "plan": "/plan/",
}


def request_scope(page: str) -> Scope:
    """The scope of the current request on ``page`` (``"wall"``, ``"squad"``, ``"street"``, ``"cases"``, ``"home"``).

    Raises
    ------
    PermissionError
        Without a logged-in user, or for a user whose role may not open the page (e.g. the wall
        kiosk calling a callback of the case list); answered 403.
    """
    principal = current_principal()
    if not principal.may_open(PAGE_PATHS[page]):
        raise PermissionError(f"role {principal.role} may not open {PAGE_PATHS[page]}")
    scope = principal.scope
    if page == WALL:
        # The wall shows squad-level aggregates: a street chief sees their squad's (as any viewer sees
        # the county's), titled with the squad's name; their own streets are on /street.
        return replace(scope, chief_code=None, aggregates_only=True, personal_data=False)
    return scope


def may_plan(squad_code: str | None) -> bool:
    """True when the current user may make and approve patrol plans of ``squad_code``: an admin, or
    that squad's leader (not another squad's leader, a street chief, a viewer or the wall kiosk)."""
    principal = current_principal()
    if not squad_code or not principal.may_open(f"{PAGE_PATHS['plan']}{squad_code}"):
        return False
    return principal.role == "admin" or (principal.role == "squad_leader" and principal.squad_code == squad_code)


def may_fix_addresses() -> bool:
    """True when the current user may fix a case's address (move its point, teach the geocoder): admin only."""
    principal = current_principal()
    return principal.role == "admin" and principal.may_open(PAGE_PATHS["cases"])


DENIED_PAGE = "无权访问此页面"
_VARIABLE = re.compile(r"<([^<>]+)>")


def guard_page_layouts() -> None:
    """Wrap the layout of every registered page so that it renders only for a principal who may open it.

    The page's path (its template filled with the requested path variables) is checked with
    :meth:`~dashboard.access.roles.Principal.may_open`; a denied request gets a Chinese notice and an
    audit entry, never the page. Idempotent (pages are registered once per process).
    """
    for page in dash.page_registry.values():
        layout = page.get("layout")
        if getattr(layout, "guarded", False):
            continue
        page["layout"] = _guarded(layout, page.get("path_template") or page["path"])


def _guarded(layout: Callable[..., Any] | Any, template: str) -> Callable[..., Any]:
    def guarded(**kwargs: Any) -> Any:
        path = _VARIABLE.sub(lambda m: str(kwargs.get(m.group(1), "")), template)
        if not current_principal().may_open(path):
            audit_request("page_denied", target=path)
            return html.Div(DENIED_PAGE, className="page-error")
        return layout(**kwargs) if callable(layout) else layout

    if callable(layout):
        functools.update_wrapper(guarded, layout)
    guarded.guarded = True  # type: ignore[attr-defined]
    return guarded
