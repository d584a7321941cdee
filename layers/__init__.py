"""Map layers, one module per registered layer, all behind one registry keyed by name.

Use :func:`layers.registry.get_layer` / :func:`layers.registry.render`; the dashboard never runs SQL.
Beside the layer modules: :mod:`layers.base` (the interface), :mod:`layers.registry`, private helpers
of the data and build steps (``_name.py``), :mod:`layers.stats` (the pure statistics behind the
layers) and :mod:`layers.queries` (read-only queries that are not layers: case rows, directory,
wall figures, basemap geometry).
"""
