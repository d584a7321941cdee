"""Masking of personal data."""

from __future__ import annotations

import pandas as pd

from layers._privacy import mask_frame, mask_id_number, mask_name, mask_phone
from layers.base import Scope


def test_masks_names_phones_and_id_numbers() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("李四") == "李**"
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("138-1234-1234") == "138****1234"
    assert mask_phone("87654321") == "****4321"
    assert mask_id_number("330723199001011234") == "330723********1234"
    assert mask_name(None) is None


def test_frame_is_masked_unless_the_scope_allows_personal_data() -> None:
    frame = pd.DataFrame({"party_name": ["王五"], "party_phone": ["13900001111"], "address": ["解放街1号"]})
    masked = mask_frame(frame, Scope())
    assert masked.loc[0, "party_name"] == "王**"
    assert masked.loc[0, "party_phone"] == "139****1111"
    assert masked.loc[0, "address"] == "解放街1号"
    assert frame.loc[0, "party_name"] == "王五"  # the input is not changed
    assert mask_frame(frame, Scope.everything()).loc[0, "party_name"] == "王五"
