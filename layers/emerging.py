"""Emerging hotspots: weekly space-time Gi* on H3 cells, Mann–Kendall trend, ArcGIS Emerging Hot Spot categories."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import scipy.sparse as sp
from scipy import stats
from sqlalchemy.engine import Connection

from geo.region import get_region
from layers._casepoints import case_points
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register
from layers.stats.gistar import fdr_bh
from layers.stats.hexgrid import cell_geojson, cell_ids, point_cells, study_area
from layers.stats.trend import NO_PATTERN, PATTERN_LABELS, PATTERNS, classify_emerging, mann_kendall

DEFAULT_RESOLUTION = 8  # about 0.74 km²: weekly counts per cell are too sparse at finer cells
DEFAULT_WEEKS = 26

HOT_COLORS = dict(
    zip(PATTERNS, ["#ffb000", "#ff7f00", "#e31a1c", "#b10026", "#fb9a99", "#f768a1", "#c51b8a", "#8c6bb1"], strict=True)
)
COLD_COLORS = dict(
    zip(PATTERNS, ["#a6cee3", "#6baed6", "#08519c", "#08306b", "#9ecae1", "#41b6c4", "#1d91c0", "#7fcdbb"], strict=True)
)
CATEGORIES = [f"{p}_hot" for p in PATTERNS] + [f"{p}_cold" for p in PATTERNS]


def category_label(category: str) -> str:
    """Chinese label of a category, e.g. ``new_hot`` → ``新增热点``."""
    if category == NO_PATTERN:
        return "无明显模式"
    pattern, kind = category.rsplit("_", 1)
    return PATTERN_LABELS[pattern] + ("热点" if kind == "hot" else "冷点")


def category_color(category: str) -> str:
    """Display colour of a category."""
    pattern, kind = category.rsplit("_", 1)
    return (HOT_COLORS if kind == "hot" else COLD_COLORS)[pattern]


def space_time_gi_star(
    counts: np.ndarray, adjacency: sp.spmatrix, time_steps: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values of every space-time bin (cells × steps).

    The neighbourhood of a bin is its cell and the cells adjacent to it, in the same step and the
    ``time_steps`` steps before it (ArcGIS's neighbourhood time step); the whole cube is the
    population. Identical to :func:`layers.stats.gistar.gi_star` on the cube's full weight matrix.
    """
    c = np.asarray(counts, dtype=float)
    cells, steps = c.shape
    w = sp.csr_matrix(adjacency, dtype=float, copy=True)
    w.setdiag(0.0)
    w.eliminate_zeros()
    w.data[:] = 1.0
    w = (w + sp.identity(cells, format="csr")).tocsr()
    spatial = np.asarray(w @ c)
    card_space = np.asarray(w.sum(axis=1)).ravel()
    window = spatial.copy()
    in_window = np.ones(steps)
    for lag in range(1, time_steps + 1):
        if lag >= steps:
            break
        window[:, lag:] += spatial[:, :-lag]
        in_window[lag:] += 1
    cardinality = card_space[:, None] * in_window[None, :]
    n = c.size
    total = c.sum()
    mean = total / n
    variance_y = (c * c).sum() / n - mean**2
    statistic = window / total
    expected = cardinality / n
    variance = cardinality * (n - cardinality) / (n - 1) / n**2 * (variance_y / mean**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (statistic - expected) / np.sqrt(variance)
    z = np.where(np.isfinite(z), z, 0.0)
    return z, 2.0 * stats.norm.sf(np.abs(z))


def week_bins(received_s: pd.Series, start: dt.date, tz) -> np.ndarray:
    """Index of the week (from ``start``) of each time (epoch seconds), in local dates."""
    local = pd.to_datetime(received_s.to_numpy(float), unit="s", utc=True).tz_convert(tz).tz_localize(None)
    days = (local.normalize() - pd.Timestamp(start)).days.to_numpy()
    return days // 7


@register
class EmergingHotspotsLayer(Layer):
    """Emerging hot and cold spots over weekly bins.

    Options: ``weeks`` (when ``start`` is not given; default 26), ``time_steps`` (neighbourhood
    time step, default 1), ``alpha`` (bin and trend significance, default 0.10), ``fdr`` (default True).
    """

    name = "emerging"
    title = "新兴热点"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        region = get_region()
        end = params.end or dt.datetime.now(region.tz).date()
        weeks = int(params.options.get("weeks", DEFAULT_WEEKS))
        start = params.start or end - dt.timedelta(days=7 * weeks - 1)
        steps = max(1, ((end - start).days + 1) // 7)  # whole weeks only; a partial last week would bias the trend
        start = end - dt.timedelta(days=7 * steps - 1)
        lower = dt.datetime.combine(start, dt.time(), region.tz)
        upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), region.tz)
        points = case_points(conn, params, bounds=(lower, upper))
        resolution = int(params.resolution or DEFAULT_RESOLUTION)
        observed = point_cells(points["lat"].to_numpy(), points["lon"].to_numpy(), resolution)
        cells, adjacency = study_area(observed)
        counts = np.zeros((len(cells), steps))
        if len(observed):
            week = week_bins(points["received_s"], start, region.tz)
            np.add.at(counts, (np.searchsorted(cells, observed), week), 1)
        alpha = float(params.options.get("alpha", 0.10))
        if len(cells) < 3 or counts.sum() == 0:
            categories = np.full(len(cells), NO_PATTERN, dtype=object)
            z = np.zeros_like(counts)
            trend_z = trend_p = np.zeros(len(cells))
            sig = np.zeros_like(counts, dtype=bool)
        else:
            z, p = space_time_gi_star(counts, adjacency, int(params.options.get("time_steps", 1)))
            q = fdr_bh(p.ravel()).reshape(p.shape) if params.options.get("fdr", True) else p
            sig = q <= alpha
            _, trend_z, trend_p = mann_kendall(z)
            categories = classify_emerging(sig, z, trend_z, trend_p, alpha)
        out = pd.DataFrame(
            {
                "cell": cells,
                "h3": cell_ids(cells),
                "count": counts.sum(axis=1),
                "category": categories,
                "trend_z": trend_z,
                "trend_p": trend_p,
                "hot_steps": (sig & (z > 0)).sum(axis=1),
                "cold_steps": (sig & (z < 0)).sum(axis=1),
                "last_z": z[:, -1] if z.size else np.zeros(len(cells)),
            }
        )
        out.attrs.update(start=start, end=end, steps=steps, resolution=resolution)
        return out

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        shown = data[data["category"] != NO_PATTERN]
        present = [c for c in CATEGORIES if c in set(shown["category"])]
        traces = []
        if len(shown):
            index = {c: i for i, c in enumerate(present)}
            k = len(present)
            scale = []
            for c in present:
                i = index[c]
                scale += [[i / k, category_color(c)], [(i + 1) / k, category_color(c)]]
            traces.append(
                go.Choroplethmap(
                    geojson=cell_geojson(shown["cell"].tolist()),
                    locations=shown["h3"],
                    z=[index[c] + 0.5 for c in shown["category"]],
                    zmin=0,
                    zmax=k,
                    colorscale=scale,
                    showscale=False,
                    marker={"opacity": 0.75, "line": {"width": 0.3, "color": "#ffffff"}},
                    text=[category_label(c) for c in shown["category"]],
                    customdata=np.stack([shown["count"], shown["trend_z"].round(2)], axis=-1),
                    hovertemplate="%{text}<br>案件 %{customdata[0]} 件<br>趋势 z = %{customdata[1]}<extra></extra>",
                    name="新兴热点",
                )
            )
        counts = shown["category"].value_counts()
        summary = {"patterns": {c: int(counts[c]) for c in present}, "weeks": int(data.attrs.get("steps", 0))}
        notes = [
            "按周统计的时空 Gi*（含前一周邻域）与 Mann–Kendall 趋势，分类同 ArcGIS 新兴热点分析",
        ]
        legend = [LegendItem(category_label(c), category_color(c)) for c in present]
        return LayerResult(traces=traces, legend=legend, summary=summary, data=data, notes=notes)
