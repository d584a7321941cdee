"""Map layers and their analytics, one module per layer, all behind one registry keyed by name.

Use :func:`layers.registry.get_layer` / :func:`layers.registry.render`; the dashboard never runs SQL.
"""
