"""Patrol plans: routes per street chief and shift on the street network (after the layers in the flow).

``graph`` builds the routing graph from the street segments, ``routing`` asks pgRouting for costs
and paths, ``prizes`` turns the layers' analytics into a value per segment, ``solver`` chooses and
orders the stops with OR-Tools, ``planner`` puts them together, ``store`` keeps versions, and
``export`` writes GeoJSON and GPX.
"""
