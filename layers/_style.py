"""Colours and class labels shared by the layers, readable on a dark wall screen and on white."""

from __future__ import annotations

# Hot/cold confidence classes (-3 … 3): saturated, mid-luminance colours with an outline work on both backgrounds.
# The labels are the plain wording every legend and tooltip of a hotspot shows (no z, no q).
HOTSPOT_CLASSES: dict[int, tuple[str, str]] = {
    3: ("高度聚集（99 % 置信）", "#d7191c"),
    2: ("较高聚集（95 %）", "#f46d43"),
    1: ("轻度聚集（90 %）", "#fdae61"),
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

OUTLINE = "#5b6770"  # neutral grey-blue lines: visible on black and on white
GOOD = "#1a9850"
WARN = "#fdae61"
BAD = "#d73027"
MUTED = "#8c96a0"

ROAD_WIDTHS = {"主干路": 4.0, "次干路": 3.0, "支路": 2.0, "巷": 1.2, "乡村道路": 1.5}
