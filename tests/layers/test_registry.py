"""The layer registry."""

from __future__ import annotations

import pytest

from geo.errors import UnknownNameError
from layers.registry import get_layer, layer_names


def test_unknown_layer_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_layer("no-such-layer")
    for name in layer_names():
        assert name in str(info.value)
    assert "no-such-layer" in str(info.value)
