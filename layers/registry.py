"""The registry of layers keyed by name; asking for an unknown name lists the known ones."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from geo.errors import UnknownNameError
from layers.base import Layer, LayerParams, LayerResult

_LAYERS: dict[str, type[Layer]] = {}


def register(cls: type[Layer]) -> type[Layer]:
    """Class decorator: add a layer to the registry under ``cls.name``."""
    if cls.name in _LAYERS and _LAYERS[cls.name] is not cls:
        raise ValueError(f"layer name {cls.name!r} registered twice")
    _LAYERS[cls.name] = cls
    return cls


def _load_all() -> None:
    # Importing the modules registers their layers; one import per layer module. Subpackages
    # (layers.stats, layers.queries) hold no layers.
    import importlib

    for name in layer_modules():
        importlib.import_module(name)


def layer_modules() -> list[str]:
    """Dotted names of the layer modules: every public module directly in ``layers/`` but the interface."""
    import pkgutil

    import layers

    return [
        f"layers.{module.name}"
        for module in pkgutil.iter_modules(layers.__path__)
        if not module.ispkg and not module.name.startswith("_") and module.name not in {"base", "registry"}
    ]


def layer_names() -> list[str]:
    """Names of every registered layer."""
    _load_all()
    return sorted(_LAYERS)


def get_layer(name: str) -> Layer:
    """The layer registered as ``name``.

    Raises
    ------
    UnknownNameError
        For an unknown name; the message lists the known ones.
    """
    _load_all()
    try:
        return _LAYERS[name]()
    except KeyError:
        raise UnknownNameError("layer", name, list(_LAYERS)) from None


def render(name: str, conn: Connection, params: LayerParams) -> LayerResult:
    """Data step then build step of one layer."""
    layer = get_layer(name)
    return layer.build(layer.data(conn, params), params)
