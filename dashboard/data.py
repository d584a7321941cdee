"""The one way callbacks read data: through the layers, on a pooled connection, with failures
turned into a Chinese message instead of a Dash error."""

from __future__ import annotations

import contextvars
import copy
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from dashboard.access.web import audit_request
from geo.db import reader_engine, statement_cancelled, writer_engine
from geo.errors import DatabaseError, EgisError, UnknownNameError
from geo.settings import get_settings
from layers.base import LayerParams, LayerResult
from layers.queries import case_records
from layers.registry import layer_names, render

T = TypeVar("T")
log = logging.getLogger(__name__)


class DataUnavailable(EgisError):
    """Data could not be read; ``str(error)`` is a Chinese message for the page."""


def read(function: Callable[..., T], *args: object, cache: bool = False, **kwargs: object) -> T:
    """Call ``function(conn, *args, **kwargs)`` on a connection of the configured database.

    With ``cache`` the result is reused for identical arguments (scope included) for
    ``EGIS_DASH_CACHE_S`` seconds within this process, like :func:`layer`.

    Raises
    ------
    DataUnavailable
        When the database cannot be reached, the query ran longer than ``EGIS_READER_TIMEOUT_S``,
        or a named layer does not exist.
    """
    if cache:
        key = f"{function.__module__}.{function.__qualname__}|{args!r}|{kwargs!r}"
        return _cached(key, lambda: read(function, *args, **kwargs))
    try:
        with reader_engine().connect() as conn:
            result = function(conn, *args, **kwargs)
    except OperationalError as exc:
        if statement_cancelled(exc):
            log.warning("query cancelled after EGIS_READER_TIMEOUT_S: %s", function.__qualname__)
            raise DataUnavailable("查询超时，请缩小时间范围或筛选条件后重试") from exc
        log.warning("database unreachable: %s", exc)
        raise DataUnavailable("数据库暂时无法连接") from exc
    except DatabaseError as exc:
        log.warning("database unreachable: %s", exc)
        raise DataUnavailable("数据库暂时无法连接") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DataUnavailable("数据库连接中断") from exc
        raise
    except UnknownNameError as exc:
        raise DataUnavailable(f"图层“{exc.name}”尚未提供") from exc
    _audit_personal_data(function, args, result)
    return result


def write(function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call ``function(conn, *args, **kwargs)`` in one transaction as the writer role.

    The one way a page stores what a user made (patrol plans and their approval): the library
    function writes inside the transaction, which commits on success and rolls back on any error.

    Raises
    ------
    DataUnavailable
        When the database cannot be reached.
    """
    try:
        with writer_engine().begin() as conn:
            return function(conn, *args, **kwargs)
    except (OperationalError, DatabaseError) as exc:
        log.warning("database unreachable: %s", exc)
        raise DataUnavailable("数据库暂时无法连接") from exc


def _audit_personal_data(function: Callable[..., object], args: tuple, result: object) -> None:
    """Log a view of case rows read with unmasked personal data (who, when, which filters, how many)."""
    if function.__module__ != case_records.__name__:
        return
    params = next((a for a in args if isinstance(a, LayerParams)), None)
    if params is None or not params.scope.personal_data:
        return
    rows = result[0] if isinstance(result, tuple) else result
    count = len(rows) if hasattr(rows, "__len__") else None
    audit_request(
        "view_personal_data",
        target=function.__name__,
        detail={"rows": count, "squads": list(params.squads), "start": str(params.start), "end": str(params.end)},
    )


_cache: dict[str, tuple[float, object]] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 256
LAYER_THREADS = 3  # layers of one request rendered at once (the pool has 5 + 5 connections per process)


def layer(name: str, params: LayerParams) -> LayerResult:
    """Render one layer (data step then build step) for ``params``; see :func:`read` for errors.

    Identical requests (same layer, parameters and scope) within ``EGIS_DASH_CACHE_S`` seconds reuse
    the result rendered by this process, so twenty wall screens cost one query. Failures are never cached.
    """
    return _cached(f"layer:{name}|{params!r}", lambda: read(lambda conn: render(name, conn, params)))


def _cached(key: str, compute: Callable[[], T]) -> T:
    ttl = get_settings().dash_cache_s
    if ttl <= 0:
        return compute()
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < ttl:
        return copy.deepcopy(hit[1])  # callers tag and restyle traces
    result = compute()
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            for stale in sorted(_cache, key=lambda k: _cache[k][0])[: _CACHE_MAX // 4]:
                del _cache[stale]
        _cache[key] = (now, result)
    return copy.deepcopy(result)


def available(name: str) -> bool:
    """True when a layer of that name is registered."""
    return name in layer_names()


def layers(names: list[str], params: LayerParams) -> tuple[dict[str, LayerResult], list[str]]:
    """Render several layers side by side (each on its own pooled connection, at most
    :data:`LAYER_THREADS` at once); missing layers become notes, a database failure raises.

    A page's first map waits for all its layers: one after the other they add up (the squad page
    draws five), side by side the slowest counts.

    Returns
    -------
    results, notes
        The layers that rendered, and a Chinese note per layer that is not available.
    """
    known = [name for name in names if available(name)]
    if len(known) > 1:
        with ThreadPoolExecutor(max_workers=min(LAYER_THREADS, len(known))) as pool:
            # each in a copy of the request's context (flask.g: the audit log knows who asked)
            futures = {name: pool.submit(contextvars.copy_context().run, layer, name, params) for name in known}
            rendered = {name: future.result() for name, future in futures.items()}
    else:
        rendered = {name: layer(name, params) for name in known}
    results: dict[str, LayerResult] = {}
    notes: list[str] = []
    for name in names:
        if name not in rendered:
            notes.append(f"图层“{name}”尚未提供")
            continue
        results[name] = rendered[name]
        notes.extend(results[name].notes)
    return results, notes
