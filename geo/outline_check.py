"""Does the county outline sit where the independent check outline says? Catches a wrong ``[outline] crs``.

The GCJ-02 offset moves the outline some 500 m here, which still leaves an intersection over union
of about 0.94 with the true outline: IoU alone cannot tell. So the outline file is read as each
candidate CRS (WGS-84 as is, GCJ-02 → WGS-84, BD-09 → WGS-84, and the configured one), and for
each the offset between its centroid and the check outline's (metres, in the region's metric CRS)
and the IoU are measured. The configured CRS must fit within the thresholds and no candidate may fit
clearly better; otherwise the message names the CRS that fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import transform_geometry
from geo.region import Region, read_geometry
from geo.spatial import to_metric

CANDIDATE_CRS = ("EPSG:4326", "gcj02", "bd09")
CRS_LABELS = {"EPSG:4326": "WGS-84 (no conversion)", "gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}
BETTER_BY_M = 100.0  # another candidate this much closer than the configured CRS fits clearly better


@dataclass(frozen=True)
class OutlineFit:
    """The outline read as one CRS, compared with the check outline."""

    crs: str
    offset_m: float  # distance between the two centroids, metres
    iou: float

    def describe(self) -> str:
        """E.g. ``GCJ-02 (Amap/Tencent): centroids 46 m apart, IoU 0.979``."""
        offset = "∞" if math.isinf(self.offset_m) else f"{self.offset_m:.0f}"
        return f"{CRS_LABELS.get(self.crs, self.crs)}: centroids {offset} m apart, IoU {self.iou:.3f}"


@dataclass(frozen=True)
class OutlineCheck:
    """The fit of the configured CRS and of every candidate, and the thresholds it must meet."""

    configured: OutlineFit
    candidates: tuple[OutlineFit, ...]
    min_iou: float
    max_offset_m: float

    @property
    def best(self) -> OutlineFit:
        """The candidate (or the configured CRS) whose centroid lies closest to the check outline's."""
        return min((self.configured, *self.candidates), key=lambda f: f.offset_m)

    def problem(self) -> str | None:
        """Why the outline cannot be trusted, naming the likely CRS; None when it fits."""
        best = self.best
        fits = (
            self.configured.offset_m <= self.max_offset_m
            and self.configured.iou >= self.min_iou
            and not (best.crs != self.configured.crs and best.offset_m < self.configured.offset_m - BETTER_BY_M)
        )
        if fits:
            return None
        message = (
            f"the county outline does not fit the independent check outline when read as "
            f"[outline] crs = {self.configured.crs!r} ({self.configured.describe()}; the limits are "
            f"{self.max_offset_m:.0f} m and IoU {self.min_iou})"
        )
        if best.crs != self.configured.crs and best.offset_m <= self.max_offset_m and best.iou >= self.min_iou:
            return f'{message}; read as {best.describe()}: the file is likely {best.crs}, set crs = "{best.crs}"'
        tried = "; ".join(f.describe() for f in self.candidates)
        return f"{message}; no candidate CRS fits either ({tried}): check the outline and check_file"


def _fit(raw: BaseGeometry, crs: str, other: BaseGeometry, other_centroid: np.ndarray, metric_crs: str) -> OutlineFit:
    try:
        geom = shapely.make_valid(transform_geometry(raw, crs))
    except Exception:  # coordinates that make no sense in this CRS
        return OutlineFit(crs, math.inf, 0.0)
    union = geom.union(other).area
    iou = geom.intersection(other).area / union if union > 0 else 0.0
    centroid = to_metric(shapely.points([geom.centroid.x], [geom.centroid.y]), metric_crs)
    offset = float(shapely.distance(centroid[0], shapely.points(other_centroid)))
    return OutlineFit(crs, offset if math.isfinite(offset) else math.inf, float(iou))


def check_outline(region: Region) -> OutlineCheck | None:
    """Compare the outline file, read as each candidate CRS, with the check outline (None without one).

    Parameters
    ----------
    region
        The region; ``[outline] check_file`` is WGS-84 / CGCS2000, ``check_min_iou`` and
        ``check_max_offset_m`` are the thresholds.

    Returns
    -------
    OutlineCheck or None
        Call :meth:`OutlineCheck.problem` for the verdict.
    """
    if region.outline_check_file is None:
        return None
    raw = read_geometry(region.outline_file)
    other = read_geometry(region.outline_check_file)
    centre = to_metric(shapely.points([other.centroid.x], [other.centroid.y]), region.metric_crs)
    other_centroid = shapely.get_coordinates(centre)[0]
    configured = _fit(raw, region.outline_crs, other, other_centroid, region.metric_crs)
    candidates = tuple(
        _fit(raw, crs, other, other_centroid, region.metric_crs) for crs in CANDIDATE_CRS if crs != region.outline_crs
    )
    return OutlineCheck(configured, candidates, region.outline_check_min_iou, region.outline_check_max_offset_m)
