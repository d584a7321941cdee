"""Masking of personal data (names, phone numbers, ID numbers) for users without the right to see it."""

from __future__ import annotations

import re

import pandas as pd

from layers.base import Scope

NAME_COLUMNS = ("party_name", "complainant_name")
PHONE_COLUMNS = ("party_phone", "complainant_phone")
ID_COLUMNS = ("party_id_number",)
PERSONAL_COLUMNS = NAME_COLUMNS + PHONE_COLUMNS + ID_COLUMNS

_DIGITS = re.compile(r"\s|-")


def mask_name(value: str | None) -> str | None:
    """``张三丰`` → ``张**``: the first character and two stars (the length is not revealed)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    if not text:
        return text
    return text[0] + "**"


def mask_phone(value: str | None) -> str | None:
    """``13812341234`` → ``138****1234``; shorter numbers keep only their last four digits."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = _DIGITS.sub("", str(value))
    if not text:
        return text
    if len(text) >= 11:
        return text[:3] + "****" + text[-4:]
    if len(text) > 4:
        return "*" * (len(text) - 4) + text[-4:]
    return "*" * len(text)


def mask_id_number(value: str | None) -> str | None:
    """``330723199001011234`` → ``330723********1234``: division code and last four kept."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_frame(frame: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Return ``frame`` with its personal-data columns masked unless ``scope.personal_data``.

    Parameters
    ----------
    frame
        Case rows; columns not present are ignored.
    scope
        The requesting user's scope.

    Returns
    -------
    pandas.DataFrame
        A copy with masked values (or ``frame`` itself when nothing needs masking).
    """
    if scope.personal_data:
        return frame
    present = [c for c in PERSONAL_COLUMNS if c in frame.columns]
    if not present:
        return frame
    out = frame.copy()
    for column in present:
        func = mask_name if column in NAME_COLUMNS else mask_phone if column in PHONE_COLUMNS else mask_id_number
        out[column] = out[column].map(func, na_action="ignore").astype(object)
    return out


class CaseLevelAccessError(PermissionError):
    """The scope allows aggregates only, and case-level rows were asked for."""

    def __init__(self) -> None:
        super().__init__("当前权限仅可查看汇总数据，不能查看案件明细 (aggregates only: no case-level rows)")


def require_case_level(scope: Scope) -> None:
    """Raise :class:`CaseLevelAccessError` when ``scope`` allows aggregates only."""
    if scope.aggregates_only:
        raise CaseLevelAccessError()


def device_label(unit: str | None, role: str | None, name: str | None, show_name: bool) -> str:
    """The label of a live position: ``熟溪 街长`` (unit and role only), with the name only when
    ``show_name`` (a squad leader on the squad page); never a name on the wall."""
    label = " ".join(part for part in (unit, role) if part) or "巡查人员"
    return f"{label} {name}" if show_name and name else label
