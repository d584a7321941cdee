"""Wall-display figures mirroring the annual report: cases by procedure type this year against the
same period last year, complaints and their response, cases per officer, and how fresh the data is.

Aggregates only: no case-level rows and no personal data leave this layer.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection

from geo.duty import duty_start_sql
from geo.region import Region, get_region
from geo.time_limits import awaiting_arrival_sql
from layers.base import LayerParams
from layers.queries.directory import default_window_end, newest_case_time

_COUNTS = text(
    """
    WITH ref AS (SELECT CAST(:ref AS date) AS day, CAST(:tz AS text) AS tz)
    SELECT c.squad_code,
           c.procedure_type,
           CASE WHEN (c.received_at AT TIME ZONE ref.tz)::date
                     BETWEEN make_date(extract(year FROM ref.day)::int, 1, 1) AND ref.day
                THEN 'this' ELSE 'last' END AS period,
           count(*) AS cases,
           count(*) FILTER (WHERE c.due_at IS NOT NULL AND c.due_at <= now()) AS due,
           count(*) FILTER (WHERE c.due_at IS NOT NULL AND c.due_at <= now()
                             AND c.closed_at IS NOT NULL AND c.closed_at <= c.due_at) AS due_on_time,
           count(*) FILTER (WHERE c.closed_at IS NULL) AS open,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM c.arrived_at - c.received_at) / 60.0
           ) FILTER (WHERE c.arrived_at IS NOT NULL) AS median_arrive_min
    FROM cases c, ref
    WHERE (c.received_at AT TIME ZONE ref.tz)::date
              BETWEEN make_date(extract(year FROM ref.day)::int, 1, 1) AND ref.day
       OR (c.received_at AT TIME ZONE ref.tz)::date
              BETWEEN make_date(extract(year FROM ref.day)::int - 1, 1, 1)
                  AND (ref.day - interval '1 year')::date
    GROUP BY 1, 2, 3
    """
)

_FRESHNESS = text(
    """
    SELECT (SELECT max(finished_at) FROM etl_runs WHERE status = 'succeeded') AS last_load_at,
           (SELECT coalesce(sum(officers), 0) FROM squads
             WHERE CAST(:county AS boolean) OR code = ANY(:squads)) AS squad_officers
    """
)


def wall_figures(conn: Connection, params: LayerParams) -> dict:
    """Annual-report figures for the command-center wall (aggregates only), see :func:`summarise`."""
    return summarise(counts(conn, params))


def counts(conn: Connection, params: LayerParams) -> pd.DataFrame:
    """Case counts per squad, procedure type and period (this year to date / same period last year).

    ``params.end`` is the reference day; without it, :func:`layers.queries.directory.default_window_end`.
    ``params.scope.squads`` restricts the squads counted.
    """
    region = get_region()
    squads = counted_squads(params)
    fresh = conn.execute(_FRESHNESS, {"county": squads is None, "squads": list(squads or ())}).mappings().one()
    ref = params.end or default_window_end(conn, params.scope)
    frame = pd.DataFrame(
        conn.execute(_COUNTS, {"ref": ref, "tz": region.timezone}).mappings().all(),
        columns=[
            "squad_code",
            "procedure_type",
            "period",
            "cases",
            "due",
            "due_on_time",
            "open",
            "median_arrive_min",
        ],
    )
    if squads is not None:
        frame = frame[frame["squad_code"].isin(squads)]
    frame.attrs.update(
        county_wide=squads is None,
        reference_day=ref,
        data_as_of=newest_case_time(conn),
        last_load_at=fresh["last_load_at"],
        squad_officers=int(fresh["squad_officers"] or 0),
    )
    return frame


def counted_squads(params: LayerParams) -> tuple[str, ...] | None:
    """The squads whose cases and officers the figures count: the scope's, narrowed by ``params.squads``;
    None for the whole county."""
    squads = params.scope.squads
    if params.squads:
        squads = tuple(s for s in params.squads if squads is None or s in squads)
    return squads


def summarise(data: pd.DataFrame) -> dict:
    """Summary: totals by procedure type and period, complaint figures, per-officer and per-squad numbers.

    ``officers`` are those of the squads counted (the region's total only when the whole county is
    counted and the squads list none), so 人均办案 divides a squad's cases by that squad's officers.
    Response times per squad are not here: the wall reads them from the response-times layer
    (:data:`layers.stats.response_time.ARRIVAL_METRIC`), the one place they are computed.
    """
    region = get_region()
    this = data[data["period"] == "this"]
    last = data[data["period"] == "last"]
    by_type = {
        kind: {
            "this": int(this.loc[this["procedure_type"] == kind, "cases"].sum()),
            "last": int(last.loc[last["procedure_type"] == kind, "cases"].sum()),
        }
        for kind in sorted(set(data["procedure_type"].dropna()))
    }
    complaints = this[this["procedure_type"] == "投诉举报"]
    due = int(complaints["due"].sum())
    officers = data.attrs.get("squad_officers") or (region.officers if data.attrs.get("county_wide", True) else 0)
    per_squad = (
        this.groupby("squad_code")
        .agg(cases=("cases", "sum"), open=("open", "sum"), due=("due", "sum"), due_on_time=("due_on_time", "sum"))
        .reset_index()
    )
    summary = {
        "reference_day": data.attrs.get("reference_day"),
        "data_as_of": data.attrs.get("data_as_of"),
        "last_load_at": data.attrs.get("last_load_at"),
        "by_type": by_type,
        "cases_this_year": int(this["cases"].sum()),
        "cases_last_year": int(last["cases"].sum()),
        "open_cases": int(this["open"].sum()),
        "complaints": int(complaints["cases"].sum()),
        "complaints_due": due,
        "complaints_on_time_share": (int(complaints["due_on_time"].sum()) / due) if due else None,
        "complaints_median_arrive_min": _weighted_median(complaints),
        "officers": int(officers),
        "cases_per_officer": (int(this["cases"].sum()) / officers) if officers else None,
        "per_squad": per_squad.to_dict("records"),
    }
    return summary


def _weighted_median(frame: pd.DataFrame) -> float | None:
    """Case-weighted median of per-group medians (an approximation good enough for a KPI card)."""
    rows = frame.dropna(subset=["median_arrive_min"]).sort_values("median_arrive_min")
    if rows.empty:
        return None
    cumulative = rows["cases"].cumsum()
    return float(rows.loc[cumulative >= rows["cases"].sum() / 2, "median_arrive_min"].iloc[0])


def _live_sql(region: Region) -> TextClause:
    """The live counts' statement (在岗: online and on duty by :mod:`geo.duty`)."""
    return text(
        f"""
    WITH ref AS (SELECT CAST(:now AS timestamptz) AS now, CAST(:day_start AS timestamptz) AS day_start)
    SELECT
        (SELECT count(*) FROM (  -- online officers first, then the duty rule once per officer, not per fix
            SELECT DISTINCT g.subject_id FROM gps_fixes g
              LEFT JOIN street_chiefs c ON c.code = g.subject_id
             WHERE g.subject_kind = 'patrol'
               AND g.ts > CAST(:now AS timestamptz) - make_interval(secs => :online_s)
               AND g.ts <= CAST(:now AS timestamptz)  -- the parameter, not ref.now: pruned at plan time
               AND (CAST(:squads AS text[]) IS NULL OR c.squad_code = ANY(CAST(:squads AS text[])))) online
          WHERE {duty_start_sql("online.subject_id", "ref.now", region)} IS NOT NULL) AS on_duty,
        (SELECT count(*) FROM cases c WHERE c.received_at >= ref.day_start AND c.received_at <= ref.now
            AND (CAST(:squads AS text[]) IS NULL OR c.squad_code = ANY(CAST(:squads AS text[])))) AS new_today,
        (SELECT count(*) FROM cases c WHERE {awaiting_arrival_sql("c", "ref.now")} AND c.dispatched_at IS NULL
            AND (CAST(:squads AS text[]) IS NULL OR c.squad_code = ANY(CAST(:squads AS text[])))) AS to_dispatch,
        (SELECT count(*) FROM cases c WHERE {awaiting_arrival_sql("c", "ref.now")}
            AND c.received_at <= ref.now - make_interval(secs => :arrive_s)
            AND (CAST(:squads AS text[]) IS NULL OR c.squad_code = ANY(CAST(:squads AS text[])))) AS overdue_arrival
    FROM ref
    """
    )


def live_figures(conn: Connection, params: LayerParams, now: dt.datetime) -> dict[str, int]:
    """Live counts beside the yearly figures (aggregates only), at ``now``.

    ``on_duty`` (在岗人数): patrol devices online (a fix within ``[live] online_min``) whose officer is
    on duty now (roster, else config shift: :mod:`geo.duty`); ``new_today``
    (今日新增): cases received since local midnight; ``to_dispatch`` (待派遣): cases of the last day
    neither dispatched, arrived nor closed; ``overdue_arrival`` (超时未到场): cases of the last day not
    arrived nor closed after ``[region] arrive_limit_min`` (the 到场时限 of the wall and the arrival rule).
    """
    region = get_region()
    allowed = params.scope.squads
    squads = set(allowed) if allowed is not None else None
    if params.squads:
        squads = set(params.squads) if squads is None else squads & set(params.squads)
    day_start = dt.datetime.combine(now.astimezone(region.tz).date(), dt.time(), tzinfo=region.tz)
    row = (
        conn.execute(
            _live_sql(region),
            {
                "now": now,
                "day_start": day_start,
                "online_s": region.live.online_min * 60,
                "arrive_s": region.arrive_limit_min * 60,
                "squads": None if squads is None else sorted(squads),
            },
        )
        .mappings()
        .one()
    )
    return {k: int(v or 0) for k, v in row.items()}
