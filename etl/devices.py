"""The device registry: hand a vendor device (IMEI, 执法记录仪 serial) to an officer or vehicle, retire it, list it.

A handover keeps history: adding a device that is held closes the holder's row where the new
one starts, so a fix still maps to whoever held the device at the fix's time
(:mod:`etl.gps.subjects`). Device ids match case-insensitively, like usernames.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from etl.gps.track_files import SUBJECT_KINDS
from geo.errors import InputError


def subject_exists(conn: Connection, kind: str, subject: str) -> bool:
    """True when ``subject`` is a street chief's code (``patrol``) or a sanitation route's vehicle plate."""
    sql = (
        "SELECT EXISTS (SELECT 1 FROM street_chiefs WHERE code = :s)"
        if kind == "patrol"
        else "SELECT EXISTS (SELECT 1 FROM sanitation_routes WHERE vehicle = :s)"
    )
    return bool(conn.execute(text(sql), {"s": subject}).scalar_one())


def assign_device(
    conn: Connection,
    device: str,
    kind: str,
    subject: str,
    valid_from: dt.datetime,
    source: str = "cli",
    run_id: int | None = None,
) -> str:
    """Give ``device`` to ``subject`` from ``valid_from`` on; what was done (``added``, ``handed over``, ``unchanged``).

    Raises
    ------
    InputError
        Unknown kind or subject, a time without offset, or a history that would not stay in order
        (the device already has a holder from ``valid_from`` or later).
    """
    device = device.strip()
    if not device or len(device) > 64:
        raise InputError(f"device id must be 1 to 64 characters, not {device!r}")
    if kind not in SUBJECT_KINDS:
        raise InputError(f"kind must be one of {', '.join(SUBJECT_KINDS)}, not {kind!r}")
    if valid_from.tzinfo is None:
        raise InputError(f"valid-from {valid_from} has no UTC offset")
    if not subject_exists(conn, kind, subject):
        what = "street chief code" if kind == "patrol" else "sanitation vehicle plate"
        raise InputError(f"{subject!r} is not a known {what} (load chiefs / routes first)")
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('devices:' || lower(:d)))"), {"d": device})
    rows = conn.execute(
        text(
            "SELECT id, subject_kind, subject_id, valid_from, valid_to FROM devices "
            "WHERE lower(device_id) = lower(:d) ORDER BY valid_from DESC LIMIT 1"
        ),
        {"d": device},
    ).all()
    last = rows[0] if rows else None
    if last is not None and last.valid_to is None and (last.subject_kind, last.subject_id) == (kind, subject):
        return "unchanged"
    if last is not None and (last.valid_from >= valid_from or (last.valid_to or valid_from) > valid_from):
        raise InputError(
            f"device {device} is held by {last.subject_id} from {last.valid_from:%Y-%m-%d %H:%M %z}; "
            "a new holder must start after the last one (the history is kept in order)"
        )
    done = "added"
    if last is not None and last.valid_to is None:
        conn.execute(text("UPDATE devices SET valid_to = :t WHERE id = :id"), {"t": valid_from, "id": last.id})
        done = "handed over"
    conn.execute(
        text(
            "INSERT INTO devices (device_id, subject_kind, subject_id, valid_from, source, run_id) "
            "VALUES (:d, :k, :s, :f, :src, :run)"
        ),
        {"d": device, "k": kind, "s": subject, "f": valid_from, "src": source, "run": run_id},
    )
    return done


def retire_device(conn: Connection, device: str, at: dt.datetime) -> None:
    """End the current holding of ``device`` at ``at`` (lost, broken, returned).

    Raises
    ------
    InputError
        When nobody holds the device, or ``at`` is not after the holding's start.
    """
    row = conn.execute(
        text("SELECT id, valid_from FROM devices WHERE lower(device_id) = lower(:d) AND valid_to IS NULL"),
        {"d": device.strip()},
    ).one_or_none()
    if row is None:
        raise InputError(f"device {device} is not held by anyone")
    if at <= row.valid_from:
        raise InputError(f"device {device} is held from {row.valid_from:%Y-%m-%d %H:%M %z}; retire it after that")
    conn.execute(text("UPDATE devices SET valid_to = :t WHERE id = :id"), {"t": at, "id": row.id})


def list_devices(conn: Connection, device: str | None = None) -> list[dict[str, Any]]:
    """Every registry row (or the history of one ``device``), by device and start."""
    return [
        dict(r)
        for r in conn.execute(
            text(
                "SELECT device_id, subject_kind, subject_id, valid_from, valid_to, source FROM devices "
                "WHERE CAST(:d AS text) IS NULL OR lower(device_id) = lower(:d) ORDER BY lower(device_id), valid_from"
            ),
            {"d": device},
        ).mappings()
    ]
