"""Map figures: the basemap style, the data traces of the layers, a view fitted to bounds, and
``uirevision`` so refreshes never move a map the user has panned or zoomed."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType

from dashboard import basemap
from dashboard.segment_geometry import with_geometry_url
from layers._geometry import lines_to_lonlat, round_coords
from layers._style import HIGHLIGHT, HIGHLIGHT_POINTS
from layers.base import LayerResult
from layers.queries.segment_focus import SegmentFocus


def view_for_bounds(
    bounds: tuple[float, float, float, float],
    width_px: int = 1100,
    height_px: int = 800,
    free_right_px: int = 0,
) -> tuple[dict[str, float], float]:
    """Centre and zoom that fit ``(xmin, ymin, xmax, ymax)`` in a map of the given pixel size.

    ``free_right_px`` pixels on the map's right stay clear of the bounds (where a colour bar sits):
    the bounds are fitted in the rest, and the centre moves east by half that strip.
    """
    xmin, ymin, xmax, ymax = bounds
    lon_span = max(xmax - xmin, 1e-4)
    y0 = math.log(math.tan(math.pi / 4 + math.radians(ymin) / 2))
    y1 = math.log(math.tan(math.pi / 4 + math.radians(ymax) / 2))
    merc_span = max(abs(y1 - y0), 1e-6)
    fit_width = max(width_px - free_right_px, 1)
    zoom_x = math.log2(fit_width * 360 / (512 * lon_span))  # MapLibre: 512 px world at zoom 0
    zoom_y = math.log2(height_px * 2 * math.pi / (512 * merc_span))
    zoom = round(max(min(zoom_x, zoom_y) - 0.15, 1.0), 2)
    lon = (xmin + xmax) / 2 + free_right_px / 2 * 360 / (512 * 2**zoom)
    center_lon, center_lat = basemap.to_display([lon], [(ymin + ymax) / 2])
    return {"lon": float(center_lon[0]), "lat": float(center_lat[0])}, zoom


def measure_js(selector: str, extra: str = "") -> str:
    """A clientside callback (JavaScript) resolving to ``{width, height}`` in px of the element ``selector``
    once the browser has laid it out (a graph has no height until plotly has loaded), or null after 5 s:
    what :func:`measured_size` reads to fit a map to its real size. ``extra``: more ``key: expression``
    entries of the result (JavaScript), e.g. the wall's text scale."""
    more = f", {extra}" if extra else ""
    return f"""function(_) {{
        return new Promise(resolve => {{
            const started = performance.now();
            const look = () => {{
                const box = document.querySelector({selector!r});
                const r = box ? box.getBoundingClientRect() : {{width: 0, height: 0}};
                if (r.width > 0 && r.height > 0) {{
                    resolve({{width: Math.round(r.width), height: Math.round(r.height){more}}});
                }} else if (performance.now() - started > 5000) {{
                    resolve(null);
                }} else {{
                    requestAnimationFrame(look);
                }}
            }};
            look();
        }});
    }}"""


def measured_size(value: Any) -> tuple[int, int] | None:
    """``(width, height)`` of a measure the browser stored (``{"width", "height"}``, see :func:`measure_js`),
    within sane bounds; None for anything else."""
    try:
        width, height = (min(max(int(value[k]), 200), 8000) for k in ("width", "height"))
    except (KeyError, TypeError, ValueError):
        return None
    return width, height


def anchor() -> go.Scattermap:
    """An empty map trace, first in every figure, so the map subplot exists even without data."""
    return go.Scattermap(lon=[], lat=[], hoverinfo="skip", showlegend=False, meta={"layer": "_anchor"})


def layer_traces(results: dict[str, LayerResult], order: list[str]) -> list[BaseTraceType]:
    """The traces of the rendered layers in drawing order, each tagged with its layer name in ``meta``.

    The first trace is always :func:`anchor`, so patching ``data`` keeps a map subplot. Every trace
    is drawn below the basemap's names (``below``), so areas and lines never hide a label. Traces of
    whole segments carry the URL of the segments' geometry, which the browser expands them from.
    """
    traces: list[BaseTraceType] = [anchor()]
    for name in order:
        if name not in results:
            continue
        for trace in results[name].traces:
            mode = getattr(trace, "mode", None) or ""
            if "text" in mode:  # names are drawn once, by the basemap's label layers (no overlaps)
                if mode == "text":
                    continue
                trace.mode = mode.replace("+text", "").replace("text+", "")
            trace.meta = {**(trace.meta or {}), "layer": name}  # keeps a geometry reference (segment_trace)
            trace.legendgroup = legend_group(name, results[name], trace.name)
            trace.below = basemap.LABELS_BELOW
            traces.append(trace)
    return with_geometry_url(basemap.for_display(traces))


def legend_group(layer: str, result: LayerResult, label: str | None) -> str:
    """The legend group of the entry (or trace name) ``label`` of ``layer``: what a click on the entry hides.

    A layer that draws a trace per legend entry (e.g. the patrol classes "超过7天或未巡查" …) has a
    group per entry; any other layer (e.g. hotspot cells, one trace for all classes) one group, the
    layer. A trace whose name is no entry (e.g. hover markers) is in the layer's group.
    """
    labels = {item.label for item in result.legend}
    per_entry = any(getattr(trace, "name", None) in labels for trace in result.traces)
    return f"{layer}:{label}" if per_entry and label in labels else layer


def hide_groups(traces: list[BaseTraceType], hidden: list[str] | None) -> list[BaseTraceType]:
    """``traces`` with those whose ``legendgroup`` is in ``hidden`` made invisible (a legend toggle kept
    across re-renders)."""
    for trace in traces:
        if hidden and getattr(trace, "legendgroup", None) in hidden:
            trace.visible = False
    return traces


FOCUS_LAYER = "selected"  # ``meta.layer`` of the traces that highlight the segment in focus
FOCUS_MAX_ZOOM = 17.0


def focus_traces(focus: SegmentFocus) -> list[BaseTraceType]:
    """Traces highlighting a segment in focus: a wide line and the points of its cases (not clickable).

    The points are exactly the cases the segment's drill-down lists; their count is in the trace's name.
    """
    lons, lats = lines_to_lonlat([focus.geometry])
    line = go.Scattermap(
        lon=lons,
        lat=lats,
        mode="lines",
        line={"color": HIGHLIGHT, "width": 10},
        opacity=0.85,
        hoverinfo="skip",
        name=f"所选路段：{focus.label}",
    )
    points = go.Scattermap(
        lon=round_coords(focus.cases["lon"]),
        lat=round_coords(focus.cases["lat"]),
        mode="markers",
        marker={"size": 9, "color": HIGHLIGHT_POINTS},
        hovertext=list(focus.cases["case_number"]),
        hoverinfo="text",
        name=f"所选路段上的案件 {len(focus.cases)} 件",
    )
    traces = [line, points]
    for trace in traces:
        trace.meta = {"layer": FOCUS_LAYER, "segment_id": focus.segment_id, "cases": len(focus.cases)}
    return basemap.for_display(traces)


def focus_view(focus: SegmentFocus) -> tuple[dict[str, float], float]:
    """Centre and zoom that show the segment in focus with some room around it."""
    center, zoom = view_for_bounds(focus.bounds, width_px=800, height_px=450)
    return center, min(zoom, FOCUS_MAX_ZOOM)


def map_figure(
    traces: list[BaseTraceType],
    *,
    style: dict[str, Any],
    center: dict[str, float],
    zoom: float,
    uirevision: str,
    dark: bool = False,
    showlegend: bool = False,
) -> go.Figure:
    """A MapLibre figure with the given basemap style and traces; the view is kept across updates."""
    figure = go.Figure(data=traces or [anchor()])
    text_color = basemap.DARK.text if dark else basemap.LIGHT.text
    figure.update_layout(
        map={"style": style, "center": center, "zoom": zoom, "uirevision": uirevision},
        uirevision=uirevision,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor="rgba(0,0,0,0)",
        showlegend=showlegend,
        legend={"bgcolor": "rgba(0,0,0,0.4)" if dark else "rgba(255,255,255,0.85)", "font": {"color": text_color}},
        font={"family": "WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif", "color": text_color},
        hoverlabel={"font": {"family": "WenQuanYi Micro Hei, sans-serif"}},
    )
    return figure


def clicked(click: dict[str, Any] | None, figure: dict[str, Any] | None) -> tuple[str | None, Any]:
    """The layer name and the value (customdata or location) of a map click, from ``clickData``."""
    if not click or not click.get("points"):
        return None, None
    point = click["points"][0]
    layer = None
    if figure is not None:
        index = point.get("curveNumber")
        traces = figure.get("data", [])
        if index is not None and index < len(traces):
            layer = (traces[index].get("meta") or {}).get("layer")
    value = point.get("location")  # choropleth cells / areas
    if value is None:
        value = point.get("customdata")
        if isinstance(value, list | tuple):
            value = value[0] if value else None
    return layer, value
