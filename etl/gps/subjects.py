"""Which officer or vehicle a GPS fix belongs to: the device registry at the fix's time, else the id itself.

One rule for the file load and the live API. A fix's ``device`` is looked up (case-insensitively,
like usernames) in ``devices``: the row whose ``[valid_from, valid_to)`` holds the fix's time
names the subject and its kind (the registry wins over the kind a file or item declares). When no
row holds that time, the id itself is taken as today: a street chief's code (``patrol``) or a
sanitation route's vehicle plate (``sanitation``), matched exactly. An id that is neither is an
unknown device and its fix is rejected, except while nothing of that kind is known at all (no
chiefs / route vehicles and no registered device of the kind, e.g. tracks loaded before the
roster): then the id is taken as the subject, as before the registry existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

UNKNOWN = (
    "未登记的设备 unknown device {device!r}: not in the device registry (python -m etl devices add) "
    "at this time, nor a street chief's code or a sanitation vehicle's plate"
)


@dataclass
class Resolved:
    """Subjects of a batch of fixes, position by position.

    Attributes
    ----------
    kind, subject
        The subject's kind and id (``None`` where ``unknown``).
    unknown
        True where the device could not be resolved.
    reasons
        The reject reason of each unknown fix, in order.
    """

    kind: np.ndarray
    subject: np.ndarray
    unknown: np.ndarray
    reasons: list[str]


def resolve_devices(conn: Connection, kinds: np.ndarray, devices: np.ndarray, ts_ns: np.ndarray) -> Resolved:
    """The subject of each fix (``devices[i]`` sent as kind ``kinds[i]`` at ``ts_ns[i]``, ns since the epoch UTC).

    Parameters
    ----------
    conn
        The load's connection.
    kinds
        The declared kind of each fix (``patrol`` / ``sanitation``).
    devices
        The device id as sent (a registered vendor id, a chief code or a plate).
    ts_ns
        The fix times.
    """
    kinds = np.asarray(kinds, dtype=object)
    devices = np.asarray(devices, dtype=object)
    ts_ns = np.asarray(ts_ns, dtype=np.int64)
    out_kind = kinds.copy()
    out_subject = devices.copy()
    resolved = np.zeros(len(devices), dtype=bool)
    lowered = pd.Series(devices, dtype=object).str.lower().to_numpy()
    distinct = sorted(set(lowered.tolist()))
    registry = conn.execute(
        text(
            "SELECT lower(device_id), subject_kind, subject_id, "
            "(extract(epoch FROM valid_from) * 1e6)::bigint * 1000, "
            "(extract(epoch FROM valid_to) * 1e6)::bigint * 1000 "
            "FROM devices WHERE lower(device_id) = ANY(:d) ORDER BY 1, valid_from"
        ),
        {"d": distinct},
    ).all()
    for device, kind, subject, start, end in registry:
        held = (lowered == device) & (ts_ns >= start) & ~resolved
        if end is not None:
            held &= ts_ns < end
        out_kind[held], out_subject[held] = kind, subject
        resolved |= held
    names = sorted(set(devices[~resolved].tolist()))
    chiefs = set(conn.execute(text("SELECT code FROM street_chiefs WHERE code = ANY(:n)"), {"n": names}).scalars())
    plates = set(
        conn.execute(text("SELECT DISTINCT vehicle FROM sanitation_routes WHERE vehicle = ANY(:n)"), {"n": names})
        .scalars()
        .all()
    )
    known = conn.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM street_chiefs) "
            "OR EXISTS (SELECT 1 FROM devices WHERE subject_kind = 'patrol'), "
            "EXISTS (SELECT 1 FROM sanitation_routes WHERE vehicle IS NOT NULL) "
            "OR EXISTS (SELECT 1 FROM devices WHERE subject_kind = 'sanitation')"
        )
    ).one()
    nothing_known = {"patrol": not known[0], "sanitation": not known[1]}
    own = np.array(
        [
            (device in chiefs if kind == "patrol" else device in plates) or nothing_known.get(kind, False)
            for kind, device in zip(kinds, devices, strict=True)
        ],
        dtype=bool,
    )
    unknown = ~resolved & ~own
    out_subject[unknown] = None
    reasons = [UNKNOWN.format(device=device) for device in devices[unknown]]
    return Resolved(out_kind, out_subject, unknown, reasons)
