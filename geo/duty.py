"""When an officer is on duty (在岗): their duty roster on days it has rows for them, else the config shifts.

One rule for every caller that asks "during their shift" (the device-silent and 离岗/越界 warnings,
the 在岗人数 KPI): the officer's ``duty_roster`` rows decide on a local day that has a row for
them (or inside a rostered period running past midnight); on any other day the shifts of
``[warnings] shifts`` in the region config do.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.region import Region


def duty_start_sql(subject: str, at: str, region: Region) -> str:
    """SQL expression: start (timestamptz) of the duty period of officer ``subject`` containing ``at``; NULL off duty.

    Parameters
    ----------
    subject
        SQL expression of the officer's chief code (e.g. ``f.subject_id``).
    at
        SQL expression of the instant, a timestamptz (e.g. ``CAST(:now AS timestamptz)``).
    region
        Its time zone and ``[warnings] shifts``.
    """
    tz = "'" + region.timezone.replace("'", "''") + "'"
    local = f"({at} AT TIME ZONE {tz})"
    shifts = " ".join(
        f"WHEN extract(hour FROM {local}) >= {int(a)} AND extract(hour FROM {local}) < {int(b)} "
        f"THEN (date_trunc('day', {local}) + interval '{int(a)} hours') AT TIME ZONE {tz}"
        for a, b in region.warnings.shifts
    )
    config = f"(CASE {shifts} END)" if shifts else "CAST(NULL AS timestamptz)"
    return (
        f"(CASE WHEN EXISTS (SELECT 1 FROM duty_roster dr WHERE dr.chief_code = {subject} "
        f"AND (dr.duty_date = CAST({local} AS date) OR ({at} >= dr.starts_at AND {at} < dr.ends_at))) "
        f"THEN (SELECT max(dr.starts_at) FROM duty_roster dr WHERE dr.chief_code = {subject} "
        f"AND {at} >= dr.starts_at AND {at} < dr.ends_at) "
        f"ELSE {config} END)"
    )


def duty_start(conn: Connection, subject: str, at: dt.datetime, region: Region) -> dt.datetime | None:
    """The start of the duty period of ``subject`` containing ``at``, or None off duty (:func:`duty_start_sql`)."""
    sql = duty_start_sql("CAST(:subject AS text)", "CAST(:at AS timestamptz)", region)
    return conn.execute(text(f"SELECT {sql}"), {"subject": subject, "at": at}).scalar_one()
