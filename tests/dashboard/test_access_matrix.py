"""Role × callback and role × route: every Dash callback and every Flask route of the app, called over
HTTP as each role, the way an attacker would (crafted ``/_dash-update-component`` bodies, any
pathname), with assertions on what comes back: case rows, personal data, masking, refusals.

The rows to check are generated from the app itself (``app.callback_map`` after the first request,
when Dash has registered its page router, and the server's ``url_map``): a callback or route that
has no rule below makes the test fail, so a new one cannot ship without deciding who may call it.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
import requests
from sqlalchemy import text

from bench._seed import COMPLAINANT_NAME, COMPLAINANT_PHONE, PARTY_NAME, PARTY_PHONE, Seeded
from geo.db import get_engine
from tests.dashboard.conftest import http_session

PLANTED = (PARTY_NAME, PARTY_PHONE, COMPLAINANT_NAME, COMPLAINANT_PHONE)
MASKED_NAME = PARTY_NAME[0] + "**"
CASE_NUMBER = re.compile(r"WYV\d{7}|WY\d{9}")
# Column → the account that plays it. squad_leader leads ZD01 and asks for ZD01; squad_leader_other
# leads ZD02 and asks for ZD01 (another squad); street_chief is JL001 on ZD01's streets.
PRINCIPALS = {
    "admin": "admin",
    "command_center": "kiosk",
    "squad_leader": "leader1",
    "squad_leader_other": "leader2",
    "street_chief": "chief1",
    "viewer": "viewer",
}
ROLES = tuple(PRINCIPALS)
REFUSED = ("无权", "当前权限仅可查看汇总数据")


# -- what a response may contain ------------------------------------------------------------------
@dataclass(frozen=True)
class Seen:
    """What one response showed: status, its text (Excel downloads decoded), case numbers in it."""

    status: int
    text: str
    numbers: set[str]


def _nothing_personal(seen: Seen) -> list[str]:
    return [f"personal data {value!r} in the response" for value in PLANTED if value in seen.text]


def _no_rows(seen: Seen) -> list[str]:
    rows = sorted(seen.numbers)[:3]
    return ([f"case rows in the response: {rows}…"] if rows else []) + _nothing_personal(seen)


@dataclass(frozen=True)
class Rows:
    """Allowed: case rows of ``squads`` only (None: any squad); personal data in full, masked, or not shown (None)."""

    squads: frozenset[str] | None = None
    personal: bool | None = None
    may_be_empty: bool = False  # the scope may hold no case in the probed window

    def problems(self, seen: Seen, squad_of: dict[str, str | None]) -> list[str]:
        out = [] if seen.status == 200 else [f"status {seen.status}, expected 200"]
        if not seen.numbers:
            return out + _nothing_personal(seen) if self.may_be_empty else [*out, "no case row in the response"]
        if self.squads is not None:
            foreign = sorted(n for n in seen.numbers if squad_of.get(n) not in self.squads)
            out += [f"cases of other squads: {foreign[:3]}…"] if foreign else []
        if self.personal is True and PARTY_NAME not in seen.text:
            out.append("personal data expected in full, not found")
        if self.personal is False:
            out += _nothing_personal(seen)
            out += [] if MASKED_NAME in seen.text else [f"masked name {MASKED_NAME!r} expected"]
        if self.personal is None:
            out += _nothing_personal(seen)
        return out


@dataclass(frozen=True)
class NoRows:
    """Answered, but without any case row or personal data (e.g. a squad leader asking for another squad)."""

    def problems(self, seen: Seen, squad_of: dict[str, str | None]) -> list[str]:
        return ([] if seen.status == 200 else [f"status {seen.status}, expected 200"]) + _no_rows(seen)


@dataclass(frozen=True)
class Aggregates:
    """Allowed, aggregates only: ``marker`` (a figure's label) shows, no case row, no personal data."""

    marker: str

    def problems(self, seen: Seen, squad_of: dict[str, str | None]) -> list[str]:
        out = [] if seen.status == 200 else [f"status {seen.status}, expected 200"]
        out += [] if self.marker in seen.text else [f"{self.marker!r} not in the response"]
        return out + _no_rows(seen)


@dataclass(frozen=True)
class Denied:
    """Refused: 403, or 200 with a refusal notice instead of the content; no case row, no personal data."""

    def problems(self, seen: Seen, squad_of: dict[str, str | None]) -> list[str]:
        refused = seen.status == 403 or (seen.status == 200 and any(word in seen.text for word in REFUSED))
        return ([] if refused else [f"not refused (status {seen.status})"]) + _no_rows(seen)


@dataclass(frozen=True)
class Echo:
    """Reads nothing from the database: answers from the request alone (which carries no case data)."""

    def problems(self, seen: Seen, squad_of: dict[str, str | None]) -> list[str]:
        return ([] if seen.status in (200, 204) else [f"status {seen.status}"]) + _no_rows(seen)


@dataclass(frozen=True)
class Clientside:
    """A clientside callback: the server has nothing to run and answers an error without data."""

    def problems(self, seen: Seen, squad_of: dict[str, str | None]) -> list[str]:
        return ([] if 400 <= seen.status < 500 else [f"status {seen.status}, expected 4xx"]) + _no_rows(seen)


Expectation = Rows | NoRows | Aggregates | Denied | Echo | Clientside
ZD01 = frozenset({"ZD01"})


def every_role(expectation: Expectation) -> dict[str, Expectation]:
    """The same expectation for every role."""
    return dict.fromkeys(ROLES, expectation)


@dataclass(frozen=True)
class Probe:
    """One crafted call of a callback: input/state values by ``id.property``, the input that changed,
    and the expectation per role (every role must have one)."""

    name: str
    values: Callable[[Seeded], dict[str, Any]]
    expect: dict[str, Expectation]
    changed: str | None = None  # default: the callback's first input


def _cases_inputs(seeded: Seeded, **extra: Any) -> dict[str, Any]:
    return {
        "cases-tabs.value": "all",
        "cases-search.value": None,
        "cases-squad.value": ["ZD01"],  # a county-wide or another squad's list, asked for by hand
        "cases-window.value": "365",
        "cases-end.data": seeded.reference.date().isoformat(),
        **extra,
    }


def _squad_inputs(seeded: Seeded, **extra: Any) -> dict[str, Any]:
    return {
        "squad-window.value": "365",
        "squad-overlays.value": ["hotspots", "cases", "underpatrolled"],
        "squad-code.data": "ZD01",
        "squad-end.data": seeded.reference.date().isoformat(),
        **extra,
    }


CASE_LIST = {
    "admin": Rows(ZD01, personal=True),
    "command_center": Denied(),
    "squad_leader": Rows(ZD01, personal=True),
    "squad_leader_other": NoRows(),
    "street_chief": Rows(ZD01, personal=False),
    "viewer": Aggregates("共"),
}
CASE_EXPORT = {**CASE_LIST, "viewer": Denied()}
SQUAD_CASES = {**CASE_EXPORT}
SQUAD_MAP = {
    "admin": Rows(ZD01),
    "command_center": Denied(),
    "squad_leader": Rows(ZD01),
    "squad_leader_other": NoRows(),
    "street_chief": Rows(ZD01),
    "viewer": Aggregates("案件"),
}
SQUAD_FOCUS = {**SQUAD_MAP, "viewer": Denied()}  # the segment's case points: case level, no personal data
CASES_PAGE = {
    **CASE_LIST,
    "admin": Rows(None, personal=True),
    "squad_leader_other": Rows(frozenset({"ZD02"}), personal=True, may_be_empty=True),  # their own squad
}
STREET = {
    "admin": Rows(ZD01),
    "command_center": Denied(),
    "squad_leader": Rows(ZD01),
    "squad_leader_other": NoRows(),
    "street_chief": Rows(ZD01),
    "viewer": Aggregates("当前权限仅可查看汇总数据"),
}
PLANNING = {  # admin and ZD01's own leader only: not another squad's leader, a chief, a viewer or the kiosk
    "admin": Aggregates("计划"),
    "command_center": Denied(),
    "squad_leader": Aggregates("计划"),
    "squad_leader_other": Denied(),
    "street_chief": Denied(),
    "viewer": Denied(),
}
CHIEF_TASK = {  # JL001's task: JL001, ZD01's leader and admin; refused to everyone else
    "admin": Echo(),
    "command_center": Denied(),
    "squad_leader": Echo(),
    "squad_leader_other": Denied(),
    "street_chief": Echo(),
    "viewer": Denied(),
}


def _plan_inputs(seeded: Seeded, **extra: Any) -> dict[str, Any]:
    return {
        "plan-code.data": "ZD01",
        "plan-date.date": seeded.reference.date().isoformat(),
        "plan-shift.value": "day",
        "plan-chiefs.value": [],
        "plan-minutes.value": 60,
        "plan-mode.value": "foot",
        "plan-weights.value": ["hot", "under", "returns"],
        **extra,
    }


SEGMENT_HOURS = {  # counts only, like the page itself; another squad's leader gets zeros
    **every_role(Aggregates("所选路段的案件时段")),
    "command_center": Denied(),
    "squad_leader_other": NoRows(),
}
ADMIN_ONLY = {**every_role(Denied()), "admin": Echo()}  # fixing a case's address: admin only
SQUAD_LIVE = {**every_role(NoRows()), "command_center": Denied()}  # positions and warnings: no case rows
WARNING_ACK = {**every_role(Denied()), "admin": Echo(), "squad_leader": Echo()}  # ZD01's leader and admin only
DESK_PAGE = {**every_role(Aggregates("中队长视图")), "command_center": Denied(), "squad_leader_other": NoRows()}

# First output of the callback (``id.property``) → the probes that call it.
CALLBACK_RULES: dict[str, list[Probe]] = {
    "_pages_content.children": [
        Probe("/cases", lambda s: {"_pages_location.pathname": "/cases"}, CASES_PAGE),
        Probe("/squad/ZD01", lambda s: {"_pages_location.pathname": "/squad/ZD01"}, DESK_PAGE),
        Probe("/street/JL001", lambda s: {"_pages_location.pathname": "/street/JL001"}, STREET),
        Probe(
            "/plan/ZD01",
            lambda s: {"_pages_location.pathname": "/plan/ZD01"},
            {**PLANNING, "admin": Aggregates("巡查计划"), "squad_leader": Aggregates("巡查计划")},
        ),
        Probe("/wall", lambda s: {"_pages_location.pathname": "/wall"}, every_role(Aggregates("kpi-value"))),
        Probe(
            "/",
            lambda s: {"_pages_location.pathname": "/"},
            {**every_role(Aggregates("中队")), "command_center": Denied()},
        ),
    ],
    "_pages_dummy.children": [Probe("clientside", lambda s: {"_pages_store.data": {}}, every_role(Clientside()))],
    "cases-grid.rowData": [Probe("all cases, a year", _cases_inputs, CASE_LIST)],
    "cases-download.data": [
        Probe("export", lambda s: {"cases-export.n_clicks": 1, **_cases_inputs(s)}, CASE_EXPORT),
    ],
    "cases-fix-case.children": [
        Probe(
            "choose a case to fix", lambda s: {"cases-grid.selectedRows": [{"id": 1, "case_number": "X"}]}, ADMIN_ONLY
        )
    ],
    "cases-fix-message.children": [
        Probe(  # a case chosen but neither a text nor a point: refused to all but admin, who is asked for one
            "fix without a text or point",
            lambda s: {"cases-fix-regeocode.n_clicks": 1, "cases-grid.selectedRows": [{"id": 1}]},
            ADMIN_ONLY,
        )
    ],
    "cases-window.value": [
        Probe("clientside", lambda s: {"cases-range.start_date": "2025-01-01"}, every_role(Clientside()))
    ],
    "cases-url.data": [Probe("clientside", lambda s: {"cases-tabs.value": "all"}, every_role(Clientside()))],
    "squad-window.value": [
        Probe("clientside", lambda s: {"squad-range.start_date": "2025-01-01"}, every_role(Clientside()))
    ],
    "squad-url.data": [Probe("clientside", lambda s: {"squad-window.value": "30"}, every_role(Clientside()))],
    "street-window.value": [
        Probe("clientside", lambda s: {"street-range.start_date": "2025-01-01"}, every_role(Clientside()))
    ],
    "street-url.data": [Probe("clientside", lambda s: {"street-window.value": "30"}, every_role(Clientside()))],
    "plan-url.data": [Probe("clientside", lambda s: {"plan-shift.value": "day"}, every_role(Clientside()))],
    "cases-map.figure": [
        Probe("draw", lambda s: {"cases-grid.virtualRowData": [], "cases-grid.selectedRows": []}, every_role(Echo()))
    ],
    "squad-map.figure": [Probe("ZD01, a year, case points", _squad_inputs, SQUAD_MAP)],
    "squad-drill.data": [
        Probe(
            "choose",
            lambda s: {"squad-ranked.selectedRows": [{"segment_id": s.hot_segment}]},
            every_role(Echo()),
            changed="squad-ranked.selectedRows",
        ),
    ],
    "squad-focus.children": [
        Probe(
            "highlight ZD01's hot segment",
            lambda s: _squad_inputs(s, **{"squad-drill.data": {"segment_id": s.hot_segment}}),
            SQUAD_FOCUS,
        ),
    ],
    "squad-cases.rowData": [
        Probe(
            "hot segment of ZD01",
            lambda s: _squad_inputs(s, **{"squad-drill.data": {"segment_id": s.hot_segment}}),
            SQUAD_CASES,
        ),
    ],
    "squad-hidden.data": [Probe("legend toggle", lambda s: {}, every_role(Clientside()))],
    "squad-when-segment.figure": [
        Probe(
            "hours of ZD01's hot segment",
            lambda s: _squad_inputs(s, **{"squad-drill.data": {"segment_id": s.hot_segment}}),
            SEGMENT_HOURS,
        ),
    ],
    "squad-download.data": [
        Probe("export ZD01's cases", lambda s: _squad_inputs(s, **{"squad-export-cases.n_clicks": 1}), SQUAD_CASES),
    ],
    "street-map.figure": [
        Probe("JL001", lambda s: {"street-window.value": "90", "street-chief.data": "JL001"}, STREET),
        Probe(
            "tap a street of JL001",  # the street's outline and extent only: no case row, nothing personal
            lambda s: {"street-streets.value": "解放街", "street-window.value": "7", "street-chief.data": "JL001"},
            {**every_role(Echo()), "command_center": Denied()},
            changed="street-streets.value",
        ),
    ],
    "plan-map.figure": [Probe("make ZD01's plan", lambda s: _plan_inputs(s, **{"plan-make.n_clicks": 1}), PLANNING)],
    "plan-approved.children": [
        Probe("approve nothing yet", lambda s: {"plan-approve.n_clicks": 1, "plan-code.data": "ZD01"}, PLANNING)
    ],
    "plan-adherence.children": [
        Probe(
            "yesterday's adherence",
            lambda s: {
                "plan-code.data": "ZD01",
                "plan-date.date": (s.reference.date() - dt.timedelta(days=1)).isoformat(),
            },
            PLANNING,
        )
    ],
    "street-task-download.data": [
        Probe(
            "GPX of JL001's task", lambda s: {"street-task-gpx.n_clicks": 1, "street-chief.data": "JL001"}, CHIEF_TASK
        )
    ],
    "wall-map.figure": [
        Probe("refresh", lambda s: {"wall-refresh.n_intervals": 1}, every_role(Aggregates("kpi-value"))),
    ],
    "wall-rotation.children": [
        Probe("rotate", lambda s: {"wall-rotate.n_intervals": 1, "wall-store.data": None}, every_role(Echo())),
    ],
    "wall-scale.data": [Probe("clientside", lambda s: {"wall-scale-source.data": 1}, every_role(Clientside()))],
    "home-map-size.data": [Probe("clientside", lambda s: {"home-map-size-source.data": 1}, every_role(Clientside()))],
    "home-county-map.figure": [
        Probe("fit to a phone", lambda s: {"home-map-size.data": {"width": 370, "height": 600}}, every_role(Echo()))
    ],
    "wall-live-ack.data": [
        Probe("live poll", lambda s: {"wall-live-req.data": {"n": 1}}, every_role(Aggregates("在岗人数"))),
    ],
    "wall-live-req.data": [Probe("gate", lambda s: {"wall-live-tick.n_intervals": 1}, every_role(Clientside()))],
    "wall-live-tick.disabled": [Probe("hidden", lambda s: {"wall-live-vis.data": 1}, every_role(Clientside()))],
    "squad-live-ack.data": [
        Probe("live poll of ZD01", lambda s: {"squad-live-req.data": {"n": 1}, "squad-code.data": "ZD01"}, SQUAD_LIVE),
    ],
    "squad-live-req.data": [Probe("gate", lambda s: {"squad-live-tick.n_intervals": 1}, every_role(Clientside()))],
    "squad-live-tick.disabled": [Probe("hidden", lambda s: {"squad-live-vis.data": 1}, every_role(Clientside()))],
    "squad-warn-msg.children": [
        Probe(
            "acknowledge a warning of ZD01",
            lambda s: {
                "squad-warn-ack.n_clicks": 1,
                "squad-warn-grid.selectedRows": [{"id": 0}],
                "squad-code.data": "ZD01",
            },
            WARNING_ACK,
        ),
    ],
    "wall-focus-drawn.data": [Probe("clientside", lambda s: {"wall-focus.data": "ZD01"}, every_role(Clientside()))],
}


# -- routes ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """How to probe a URL rule: the paths to GET, whether it is public, and per role what it answers.

    ``status``: the status a logged-in user gets; ``kiosk_status`` the wall kiosk's, when it differs.
    Page paths (``PAGE_PATHS``) answer the kiosk with a redirect to ``/wall``, except the wall itself.
    """

    paths: tuple[str, ...] = ()
    public: bool = False
    status: int | tuple[int, ...] = 200
    kiosk_status: int | None = None  # the kiosk is sent back to its wall (302) from what it may not open
    note: str = ""


PAGE_PATHS = ("/", "/cases", "/squad/ZD01", "/street/JL001", "/wall")
ROUTE_RULES: dict[str, Route] = {
    "/": Route(("/",), note="page shell"),
    "/<path:path>": Route(PAGE_PATHS[1:], note="page shell of every page"),
    "/login": Route(("/login",), public=True),
    "/logout": Route((), public=True, note="ends the session: probed last, not here"),
    "/kiosk": Route(("/kiosk?token=forged",), public=True, status=403),
    "/healthz": Route(("/healthz",), public=True),
    "/readyz": Route(("/readyz",), public=True, status=(200, 503)),
    "/_dash-layout": Route(("/_dash-layout",)),
    "/_dash-dependencies": Route(("/_dash-dependencies",)),
    "/_dash-update-component": Route((), note="every callback: test_callbacks_by_role"),
    "/_reload-hash": Route(("/_reload-hash",), status=(200, 404, 405)),
    "/_favicon.ico": Route(("/_favicon.ico",), public=True),
    "/assets/<path:filename>": Route(("/assets/app.css",), public=True),
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": Route((), public=True),
    "/static/<path:filename>": Route(("/static/none.txt",), status=404, kiosk_status=302),
    "/basemap-tiles/<int:z>/<int:x>/<int:y>.<ext>": Route(("/basemap-tiles/1/1/1.png",), status=404),
    "/basemap/tiles/<int:z>/<int:x>/<int:y>.pbf": Route(
        ("/basemap/tiles/10/852/426.pbf",), note="county reference data (no case): every logged-in role, the wall too"
    ),
    "/basemap/font": Route(("/basemap/font",), note="the map's font, for every logged-in page"),
    "/basemap/segments.json": Route(
        ("/basemap/segments.json",), note="street segment lines (no case) drawn by every map: as the tiles"
    ),
}


# -- calling ---------------------------------------------------------------------------------------
def _base64_contents(value: Any) -> list[str]:
    if isinstance(value, dict):
        if value.get("base64") and isinstance(value.get("content"), str):
            return [value["content"]]
        return [c for v in value.values() for c in _base64_contents(v)]
    if isinstance(value, list):
        return [c for v in value for c in _base64_contents(v)]
    return []


def seen_of(response: requests.Response) -> Seen:
    """The response's text (JSON decoded), with every Excel download decoded into its cells' text."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    parts = [response.text if payload is None else json.dumps(payload, ensure_ascii=False)]
    for content in _base64_contents(payload):
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(content)))
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                parts.append("\t".join(str(v) for v in row if v is not None))
    joined = "\n".join(parts)
    return Seen(response.status_code, joined, set(CASE_NUMBER.findall(joined)))


def _outputs(key: str) -> list[dict[str, str]]:
    names = key.strip(".").split("...") if key.startswith("..") else [key]
    return [{"id": n.rsplit(".", 1)[0], "property": n.rsplit(".", 1)[1]} for n in names]


def callback_body(key: str, spec: dict[str, Any], values: dict[str, Any], changed: str | None) -> dict[str, Any]:
    """The JSON body Dash's renderer would POST for the callback ``key``, with crafted values."""

    def fill(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in items]

    outputs = _outputs(key)
    inputs = fill(spec["inputs"])
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": fill(spec["state"]),
        "changedPropIds": [changed or f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }


def callback_map(app, base: str) -> dict[str, dict[str, Any]]:
    """The app's callbacks by first output, after one request (Dash registers its page router then)."""
    requests.get(f"{base}/login", timeout=30)
    return {
        f"{o['id']}.{o['property']}": {"key": k, **spec}
        for k, spec in app.callback_map.items()
        for o in _outputs(k)[:1]
    }


@pytest.fixture(scope="module")
def squad_of(seeded: Seeded) -> dict[str, str | None]:
    """Case number → squad of every seeded case."""
    with get_engine().connect() as conn:
        return dict(conn.execute(text("SELECT case_number, squad_code FROM cases")).all())


# -- the tests -------------------------------------------------------------------------------------
def test_every_callback_and_route_has_a_rule(dash_app, dash_server) -> None:
    callbacks = callback_map(dash_app, dash_server)
    assert sorted(set(callbacks) - set(CALLBACK_RULES)) == [], "callbacks without a rule in CALLBACK_RULES"
    assert sorted(set(CALLBACK_RULES) - set(callbacks)) == [], "rules of callbacks that no longer exist"
    for name, probes in CALLBACK_RULES.items():
        for probe in probes:
            assert set(probe.expect) == set(ROLES), f"{name} / {probe.name}: an expectation for every role"
    routes = {rule.rule for rule in dash_app.server.url_map.iter_rules()}
    assert sorted(routes - set(ROUTE_RULES)) == [], "routes without a rule in ROUTE_RULES"
    assert sorted(set(ROUTE_RULES) - routes) == [], "rules of routes that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_callbacks_by_role(role: str, dash_app, dash_server, seeded: Seeded, squad_of) -> None:
    callbacks = callback_map(dash_app, dash_server)
    client = http_session(dash_server, PRINCIPALS[role])
    problems = []
    for name, spec in sorted(callbacks.items()):
        for probe in CALLBACK_RULES.get(name, []):
            body = callback_body(spec["key"], spec, probe.values(seeded), probe.changed)
            response = client.post(f"{dash_server}/_dash-update-component", json=body, timeout=120)
            expectation = probe.expect[role]
            for problem in expectation.problems(seen_of(response), squad_of):
                problems.append(f"{name} [{probe.name}] as {role} ({type(expectation).__name__}): {problem}")
    assert problems == []


@pytest.mark.parametrize("role", (None, *ROLES))
def test_routes_by_role(role: str | None, dash_app, dash_server) -> None:
    client = http_session(dash_server, PRINCIPALS[role] if role else None)
    problems = []
    for rule in sorted(r.rule for r in dash_app.server.url_map.iter_rules()):
        route = ROUTE_RULES.get(rule)
        if route is None:
            problems.append(f"{rule}: no rule")
            continue
        for path in route.paths:
            response = client.get(dash_server + path, allow_redirects=False, timeout=60)
            seen = seen_of(response)
            where = f"{rule} {path} as {role or 'anonymous'}"
            problems += [f"{where}: {p}" for p in _no_rows(seen)]
            if role is None and not route.public:
                login = response.status_code == 302 and "/login" in response.headers.get("Location", "")
                if not (login or response.status_code == 401):
                    problems.append(f"{where}: status {response.status_code}, expected a login redirect or 401")
                continue
            expected = _route_status(route, path, role)
            if response.status_code not in expected:
                problems.append(f"{where}: status {response.status_code}, expected {expected}")
            if expected == (302,) and response.headers.get("Location") != "/wall":
                problems.append(f"{where}: sent to {response.headers.get('Location')}, expected /wall")
    assert problems == []


def _route_status(route: Route, path: str, role: str | None) -> tuple[int, ...]:
    if role == "command_center" and ((path in PAGE_PATHS and path != "/wall") or route.kiosk_status == 302):
        return (302,)  # the kiosk is sent back to its wall
    return route.status if isinstance(route.status, tuple) else (route.status,)


def test_the_kiosk_never_gets_case_rows_whatever_the_pathname(dash_app, dash_server, seeded: Seeded) -> None:
    """The finding itself: a kiosk session asking the grid, the export and the page router for case rows."""
    callbacks = callback_map(dash_app, dash_server)
    kiosk = http_session(dash_server, "kiosk")
    grid = callbacks["cases-grid.rowData"]
    body = callback_body(grid["key"], grid, _cases_inputs(seeded, **{"cases-squad.value": None}), None)
    response = kiosk.post(f"{dash_server}/_dash-update-component", json=body, timeout=60)
    assert response.status_code == 403 and not CASE_NUMBER.search(response.text)
    pages = callbacks["_pages_content.children"]
    for path in ("/cases", "/squad/ZD01", "/street/JL001", "/"):
        body = callback_body(pages["key"], pages, {"_pages_location.pathname": path}, None)
        seen = seen_of(kiosk.post(f"{dash_server}/_dash-update-component", json=body, timeout=60))
        assert seen.status == 200 and "无权访问此页面" in seen.text, path
        assert not seen.numbers and not _nothing_personal(seen), path
    with get_engine().connect() as conn:
        denied = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'page_denied'")).scalar_one()
    assert denied >= 1


def test_the_wall_kiosk_scope_is_aggregates_only() -> None:
    from dashboard.access.roles import scope_for

    assert scope_for("command_center").aggregates_only and not scope_for("command_center").personal_data
