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


def test_every_module_in_layers_is_a_layer() -> None:
    # The room rule: layers/ holds one module per registered layer (besides base, registry, private
    # helpers and the stats/queries subpackages); a module that registers nothing belongs elsewhere.
    from layers.registry import layer_modules

    registered = {get_layer(name).__class__.__module__ for name in layer_names()}
    modules = layer_modules()
    assert "layers.hotspots" in modules and not any(m.startswith(("layers.stats", "layers.queries")) for m in modules)
    for module in modules:
        assert module in registered, f"{module} registers no layer: move it to layers/queries or layers/stats"
