"""Colours and class labels shared by the layers, readable on a dark wall screen and on white."""

from __future__ import annotations

# One meaning per colour across the map overlays (a test checks that no colour stands for two
# things): patrol recency runs green → red, case hotspots are purple (cold spots blue), the ranked
# "案件多、巡查少" segments near-black, sanitation teal/brown.
PATROL_RECENCY_COLORS = ("#1a9850", "#a6d96a", "#fdae61", "#d73027")  # ≤1, ≤3, ≤7 days, >7 days or never
UNDERPATROLLED = "#1b1b1b"
SANITATION_DONE = "#018571"
SANITATION_MISSED = "#8c510a"

# Hot/cold confidence classes (-3 … 3): saturated, mid-luminance colours with an outline work on both backgrounds.
# The labels are the plain wording every legend and tooltip of a hotspot shows (no z, no q).
HOTSPOT_CLASSES: dict[int, tuple[str, str]] = {
    3: ("高度聚集（99 % 置信）", "#7b1fa2"),
    2: ("较高聚集（95 %）", "#ab47bc"),
    1: ("轻度聚集（90 %）", "#d7a6e0"),
    0: ("无明显聚集", "rgba(160,160,160,0.35)"),
    -1: ("轻度稀少（90 %）", "#74add1"),
    -2: ("较为稀少（95 %）", "#4575b4"),
    -3: ("明显稀少（99 % 置信）", "#313695"),
}

# Sequential scale (yellow → red) with enough contrast on dark and light basemaps.
SEQUENTIAL = [
    [0.0, "#ffd166"],
    [0.35, "#f4a259"],
    [0.7, "#e4572e"],
    [1.0, "#a1132b"],
]
# Diverging scale for changes (blue falling, red rising).
DIVERGING = [[0.0, "#2c7bb6"], [0.5, "#d9d9d9"], [1.0, "#d7191c"]]

# Thirteen distinct colours for the squads (tab20-like, mid luminance).
SQUAD_COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#393b79",
    "#ad494a",
    "#637939",
]


def squad_colors(codes: list[str]) -> dict[str, str]:
    """The colour of each squad of ``codes`` on a map of those squads, in the order given (the one rule)."""
    return {code: SQUAD_COLORS[i % len(SQUAD_COLORS)] for i, code in enumerate(codes)}


OUTLINE = "#5b6770"  # neutral grey-blue lines: visible on black and on white
GOOD = "#1a9850"
WARN = "#fdae61"
BAD = "#d73027"
MUTED = "#8c96a0"

ROAD_WIDTHS = {"主干路": 4.0, "次干路": 3.0, "支路": 2.0, "巷": 1.2, "乡村道路": 1.5}

# The segment in focus (a ranked row or a clicked segment) and its case points: a colour no overlay uses.
HIGHLIGHT = "#00b8d9"
HIGHLIGHT_POINTS = "#08306b"  # the focused segment's case points: dark on the light highlight line
