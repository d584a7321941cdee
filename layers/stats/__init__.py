"""The statistics behind the layers, pure: arrays and frames in, arrays and frames out.

No SQL and no drawing here. Getis-Ord Gi* with FDR (:mod:`~layers.stats.gistar`), the Mann–Kendall
trend test and emerging hotspot categories (:mod:`~layers.stats.trend`), H3 grids and their
contiguity (:mod:`~layers.stats.hexgrid`), response-time arithmetic on the region's calendar
(:mod:`~layers.stats.response_time`). Layers, and what comes after them in the flow, import these.
"""
