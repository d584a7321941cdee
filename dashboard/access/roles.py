"""What each role may read, as a layer :class:`~layers.base.Scope`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from layers.base import Scope

ROLE_LABELS = {
    "admin": "管理员",
    "command_center": "指挥中心",
    "squad_leader": "中队长",
    "street_chief": "街路长",
    "viewer": "浏览者",
}

# Pages each role may open (path prefixes); callbacks are restricted by the scope itself.
ROLE_PAGES = {
    "admin": ("/",),
    "command_center": ("/wall",),
    "squad_leader": ("/",),
    "street_chief": ("/",),
    "viewer": ("/",),
}


@dataclass(frozen=True)
class Principal:
    """The user behind a request, as the dashboard needs it."""

    username: str
    role: str
    squad_code: str | None = None
    chief_code: str | None = None
    display_name: str | None = None

    @property
    def scope(self) -> Scope:
        """The data this principal may read."""
        return scope_for(self.role, self.squad_code, self.chief_code)

    @property
    def landing_path(self) -> str:
        """The page a login without an explicit ``next`` opens: a chief's or squad's own page, else the home page."""
        if self.role == "street_chief" and self.chief_code:
            return f"/street/{quote(self.chief_code, safe='')}"
        if self.role == "squad_leader" and self.squad_code:
            return f"/squad/{quote(self.squad_code, safe='')}"
        if self.role == "command_center":
            return "/wall"
        return "/"

    def may_open(self, path: str) -> bool:
        """True when the role may open the page at ``path``."""
        allowed = ROLE_PAGES.get(self.role, ())
        return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") or prefix == "/" for prefix in allowed)


def scope_for(role: str, squad_code: str | None = None, chief_code: str | None = None) -> Scope:
    """The scope of a role.

    admin: everything, personal data in full. command_center (the wall and its kiosk links):
    county-wide aggregates only, never a case row nor personal data. squad_leader: their squad
    only, personal data of their cases. street_chief: their own streets and the cases on them,
    masked. viewer: county-wide aggregates only. Unknown roles: nothing.
    """
    if role == "admin":
        return Scope(personal_data=True)
    if role == "command_center":
        return Scope(aggregates_only=True, personal_data=False)
    if role == "squad_leader" and squad_code:
        return Scope(squads=(squad_code,), personal_data=True)
    if role == "street_chief" and chief_code:
        return Scope(squads=(squad_code,) if squad_code else None, chief_code=chief_code, personal_data=False)
    if role == "viewer":
        return Scope(aggregates_only=True)
    return Scope(squads=(), aggregates_only=True)
