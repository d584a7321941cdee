"""The one spelling of a case number (案件编号): NFKC (full-width → half-width), trimmed, upper case."""

from __future__ import annotations

import unicodedata


def normalize_case_number(value: object) -> str:
    """A case number as stored and compared: ``"ＲＴ-dup-1 "`` → ``"RT-DUP-1"``.

    Parameters
    ----------
    value
        The number as it came in (an export cell, a form field, an API payload); None gives "".

    Returns
    -------
    str
        NFKC-normalised (full-width letters, digits and dashes become ASCII), without leading or
        trailing white space, upper case; "" when nothing is left.
    """
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip().upper()
