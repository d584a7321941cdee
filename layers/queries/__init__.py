"""Read-only queries that are not map layers: case rows for grids and exports, the directory of
squads, chiefs and categories, the wall's figures, and the offline basemap's geometry.

Like the layers' data steps they take a connection and :class:`~layers.base.LayerParams` (or its
:class:`~layers.base.Scope`) and apply the user's scope themselves; the dashboard reads through them,
never by SQL of its own.
"""
