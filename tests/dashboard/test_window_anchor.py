"""Default time windows end on the region's today (or the last loaded day), never on a case dated in the future."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator

import dash
import flask
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from dashboard.auth.roles import Principal
from geo.region import Region
from geo.settings import get_settings
from layers.base import LayerParams, Scope
from layers.queries.directory import default_window_end
from layers.queries.kpis import wall_figures


@pytest.fixture
def anchored_db(world_engine: Engine, schema_url: URL, monkeypatch, tmp_path) -> Iterator[Engine]:
    """The sample world with DATABASE_URL pointing at it (for the pages' data step)."""
    monkeypatch.setenv("DATABASE_URL", schema_url.render_as_string(hide_password=False))
    monkeypatch.setenv("EGIS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("EGIS_DASH_CACHE_S", "0")
    get_settings.cache_clear()
    yield world_engine
    get_settings.cache_clear()


def add_case(engine: Engine, number: str, received: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cases (case_number, category, procedure_type, received_at, squad_code, geocode_level, "
                "geom) VALUES (:n, '占道经营', '一般程序', :r, 'ZD01', '门牌', "
                "ST_SetSRID(ST_MakePoint(119.805, 28.89), 4326))"
            ),
            dict(n=number, r=received),
        )


def test_a_future_case_does_not_move_the_windows(anchored_db: Engine, region: Region) -> None:
    today = dt.datetime.now(region.tz).date()
    add_case(anchored_db, "NOW-1", dt.datetime.now(region.tz) - dt.timedelta(hours=1))
    add_case(anchored_db, "FUTURE-1", dt.datetime(2031, 1, 1, 9, tzinfo=region.tz))  # loaded by an older version
    scope = Scope()
    with anchored_db.connect() as conn:
        assert default_window_end(conn, scope) == today
        wall = wall_figures(conn, LayerParams(scope=scope))
    assert wall["reference_day"] == today and wall["data_as_of"].year < 2031

    from dashboard.app import create_app

    app = create_app()
    pages = {page["module"].rsplit(".", 1)[-1]: sys.modules[page["module"]] for page in dash.page_registry.values()}
    cases, squad = pages["cases"], pages["squad"]
    with app.server.test_request_context("/cases"):
        flask.g.principal = Principal("admin", "admin")
        assert _store(cases.layout(), cases.CASES_END) == today.isoformat()
        assert _store(squad.layout(code="ZD01"), squad.SQUAD_END) == today.isoformat()


def test_historical_data_keeps_windows_on_its_last_day(anchored_db: Engine, region: Region) -> None:
    scope = Scope()
    with anchored_db.connect() as conn:
        assert default_window_end(conn, scope) == dt.datetime.now(region.tz).date()  # no data: today
    add_case(anchored_db, "H-1", dt.datetime(2021, 12, 30, 16, tzinfo=region.tz))
    add_case(anchored_db, "FUTURE-2", dt.datetime(2031, 1, 1, 9, tzinfo=region.tz))
    with anchored_db.connect() as conn:
        assert default_window_end(conn, scope) == dt.date(2021, 12, 30)


def _store(component: object, store_id: str) -> object:
    """The ``data`` of the dcc.Store with ``store_id`` inside a layout tree."""
    stack = [component]
    while stack:
        item = stack.pop()
        if getattr(item, "id", None) == store_id:
            return item.data
        children = getattr(item, "children", None)
        if isinstance(children, list | tuple):
            stack.extend(children)
        elif children is not None:
            stack.append(children)
    raise AssertionError(f"no component {store_id}")
