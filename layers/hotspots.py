"""Case hotspots: Getis-Ord Gi* on H3 cells (or street segments), FDR-corrected, hot/cold at 90/95/99 %."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Connection

from layers._casepoints import case_points
from layers._geometry import segment_trace
from layers._segments import cases_per_segment, distance_weights
from layers._style import HOTSPOT_CLASSES
from layers.base import Layer, LayerParams, LayerResult, LegendItem
from layers.registry import register
from layers.stats.gistar import confidence_class, fdr_bh, gi_star, star_weights
from layers.stats.hexgrid import DEFAULT_RESOLUTION, cell_area_km2, cell_geojson, cell_ids, point_cells, study_area
from layers.streets import read_segments

SEGMENT_NEIGHBOUR_M = 150.0


def hotspot_statistics(y: np.ndarray, adjacency, transform: str = "B", fdr: bool = True) -> pd.DataFrame:
    """Gi* of ``y`` with the given binary adjacency: z, p, FDR q and the confidence class per unit."""
    if len(y) < 3 or float(np.sum(y)) == 0:
        n = len(y)
        return pd.DataFrame({"z": np.zeros(n), "p": np.ones(n), "q": np.ones(n), "cls": np.zeros(n, int)})
    result = gi_star(y, star_weights(adjacency, transform))
    q = fdr_bh(result.p) if fdr else result.p
    return pd.DataFrame({"z": result.z, "p": result.p, "q": q, "cls": confidence_class(result.z, q)})


def class_colorscale() -> list[list[float | str]]:
    """A discrete colour scale for classes −3…3 used as ``z`` with ``zmin=-3.5``, ``zmax=3.5``."""
    scale: list[list[float | str]] = []
    for i, cls in enumerate(range(-3, 4)):
        color = HOTSPOT_CLASSES[cls][1]
        scale.append([i / 7, color])
        scale.append([(i + 1) / 7, color])
    return scale


def class_wording(cls: int) -> str:
    """Plain wording of a confidence class for a tooltip, e.g. ``高度聚集（99 % 置信）`` (no z, no q)."""
    return HOTSPOT_CLASSES[int(cls)][0]


def class_legend(classes: np.ndarray) -> list[LegendItem]:
    """Legend entries of the classes present, hot first."""
    present = set(int(c) for c in classes)
    return [LegendItem(*HOTSPOT_CLASSES[c]) for c in (3, 2, 1, 0, -1, -2, -3) if c in present]


@register
class HotspotsLayer(Layer):
    """Getis-Ord Gi* hotspots of cases (counts, or rates per km of street on segments).

    Options: ``unit`` (``h3`` or ``segment``), ``transform`` (``B`` or ``R``), ``fdr`` (default True),
    ``neighbour_m`` (segments), ``value`` (``count`` or ``per_km``, segments only).
    """

    name = "hotspots"
    title = "案件热点（Gi*）"

    def data(self, conn: Connection, params: LayerParams) -> pd.DataFrame:
        unit = params.options.get("unit", "h3")
        transform = str(params.options.get("transform", "B"))
        fdr = bool(params.options.get("fdr", True))
        if unit == "segment":
            segments = read_segments(conn, params)
            counts = cases_per_segment(conn, params, segments)
            segments["count"] = counts.to_numpy()
            segments["per_km"] = segments["count"] / np.maximum(segments["length_m"].to_numpy() / 1000, 0.01)
            value = segments["per_km"] if params.options.get("value") == "per_km" else segments["count"]
            weights = distance_weights(segments.geometry.to_numpy(), float(params.options.get("neighbour_m", 150.0)))
            stats = hotspot_statistics(value.to_numpy(float), weights, transform, fdr)
            out = pd.concat([segments.reset_index(drop=True), stats], axis=1)
            out.attrs["unit"] = "segment"
            return out
        resolution = int(params.resolution or DEFAULT_RESOLUTION)
        points = case_points(conn, params)
        observed = point_cells(points["lat"].to_numpy(), points["lon"].to_numpy(), resolution)
        cells, adjacency = study_area(observed)
        counts = np.zeros(len(cells))
        if len(observed):
            np.add.at(counts, np.searchsorted(cells, observed), 1)
        stats = hotspot_statistics(counts, adjacency, transform, fdr)
        out = pd.concat([pd.DataFrame({"cell": cells, "h3": cell_ids(cells), "count": counts}), stats], axis=1)
        out["per_km2"] = out["count"] / cell_area_km2(resolution)
        out.attrs["unit"] = "h3"
        out.attrs["resolution"] = resolution
        return out

    def build(self, data: pd.DataFrame, params: LayerParams) -> LayerResult:
        if len(data) == 0:
            return LayerResult(
                traces=[], summary={"hot_spots": 0, "cold_spots": 0, "hot_spots_99": 0, "cases": 0}, data=data
            )
        summary = {
            "hot_spots": int((data["cls"] > 0).sum()),
            "cold_spots": int((data["cls"] < 0).sum()),
            "hot_spots_99": int((data["cls"] == 3).sum()),
            "cases": int(data["count"].sum()),
        }
        notes = ["Getis-Ord Gi*，经 FDR（Benjamini–Hochberg）校正"]
        if data.attrs.get("unit") == "segment":
            traces = []
            for cls in (-3, -2, -1, 0, 1, 2, 3):
                part = data[data["cls"] == cls]
                if len(part) == 0 or (cls == 0 and params.options.get("hide_insignificant", True)):
                    continue
                label, color = HOTSPOT_CLASSES[cls]
                traces.append(segment_trace(part["segment_id"], color=color, width=4, name=label))
            return LayerResult(traces=traces, legend=class_legend(data["cls"]), summary=summary, data=data, notes=notes)
        # Only significant cells are drawn unless asked (a year of cases covers thousands of cells).
        shown = data[(data["cls"] != 0) | ((data["count"] > 0) & bool(params.options.get("show_all", False)))]
        trace = go.Choroplethmap(
            geojson=cell_geojson(shown["cell"].tolist()),
            locations=shown["h3"],
            z=shown["cls"],
            zmin=-3.5,
            zmax=3.5,
            colorscale=class_colorscale(),
            showscale=False,
            marker={"opacity": 0.7, "line": {"width": 0.3, "color": "#ffffff"}},
            customdata=np.stack([shown["count"].astype(int)], axis=-1).tolist(),
            text=[class_wording(c) for c in shown["cls"]],
            hovertemplate="%{text}<br>案件 %{customdata[0]} 件<extra></extra>",
            name="热点",
        )
        resolution = int(data.attrs.get("resolution", params.resolution or DEFAULT_RESOLUTION))
        notes.append(f"H3 网格（分辨率 {resolution}，约 {cell_area_km2(resolution):.2f} km²）")
        return LayerResult(traces=[trace], legend=class_legend(data["cls"]), summary=summary, data=data, notes=notes)
