"""Load extra reference layers of the basemap (water, green space, buildings) from any vector file.

Each feature belongs to one of :data:`geo.models.BASEMAP_LAYERS`: named by its ``layer`` column
(水系, 建筑, 绿地 … or the English names), else by the name of its file or of its layer in a
multi-layer file (``water.gpkg``, ``buildings.shp``, ``水系.geojson``). A row whose layer cannot be
told is rejected with the reason. Areas, lines and points are all kept (the highest dimension of
a collection). A load replaces the layers it carries: their features that this load does not
contain are removed, so a corrected file takes the place of the old one; loading the same file
again changes nothing. The features are served in the basemap's vector tiles
(``layers.queries.basemap_tiles``) and drawn under the names.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from etl.jobs._features import duplicates, feature_rows, hash_key, merge_features, read_features
from etl.jobs._job_run import run_file_job
from etl.jobs.registry import job
from etl.runs import Run, RunReport
from geo.models import BASEMAP_LAYERS, BasemapFeature
from geo.region import get_region

JOB = job("basemap")
LAYER_NAMES = {
    "water": ("water", "waters", "river", "rivers", "lake", "lakes", "水系", "水体", "水域", "河流", "湖泊", "水库"),
    "green": ("green", "park", "parks", "forest", "绿地", "公园", "林地"),
    "building": ("building", "buildings", "建筑", "建筑物", "房屋"),
}
_ALIASES = {alias.lower(): layer for layer, names in LAYER_NAMES.items() for alias in names}
assert set(LAYER_NAMES) == set(BASEMAP_LAYERS)


def layer_of(value: str) -> str | None:
    """The basemap layer a cell or a file/layer name names (``"水系"`` → ``"water"``), None when none."""
    return _ALIASES.get(value.strip().lower())


def _source_name(source: str) -> str:
    """``dir/water.gpkg#lakes`` → ``lakes``; ``dir/水系.geojson`` → ``水系``."""
    return source.rsplit("#", 1)[1] if "#" in source else Path(source).stem


def load(
    engine: Engine, path: Path, *, crs: str | None = None, mapping: Path | None = None, force: bool = False
) -> RunReport:
    """Load basemap reference features from ``path`` (GeoPackage, Shapefile, GeoJSON …) as one ETL run."""
    region = get_region()

    def body(conn: Connection, run: Run) -> None:
        features = read_features(conn, run, Path(path), JOB.kind, "any", region, crs=crs, mapping=mapping)
        cells = features.text("layer")
        sources = [_source_name(features.layers[int(i)].source) for i in features.frame["_layer"]]
        layers = [layer_of(cell) if cell else layer_of(source) for cell, source in zip(cells, sources, strict=True)]
        unknown = [layer is None for layer in layers]
        known = ", ".join(f"{k} ({names[-1]})" for k, names in LAYER_NAMES.items())
        features.reject(
            run,
            unknown,
            [
                f"unknown basemap layer {cell or source!r} (name it in a layer column or the file name); known: {known}"
                for cell, source, bad in zip(cells, sources, unknown, strict=True)
                if bad
            ],
        )
        layers = [layer for layer in layers if layer is not None]
        given = features.text("feature_key").map(lambda k: k.removesuffix(".0"))
        keys = [
            f"{layer}:{key}" if key else hash_key(layer, geom)
            for layer, key, geom in zip(layers, given, features.frame.geometry.values, strict=True)
        ]
        mask, reasons = duplicates(features, pd.Series(keys, dtype=object), "feature key")
        features.reject(run, mask, reasons)
        keys = [k for k, m in zip(keys, mask, strict=True) if not m]
        layers = [layer for layer, m in zip(layers, mask, strict=True) if not m]
        columns = {
            "feature_key": keys,
            "layer": layers,
            "name": [name or None for name in features.text("name")],
        }
        rows = feature_rows(features, run, columns)
        merge_features(conn, run, BasemapFeature.__table__, rows, JOB.merge_key)
        loaded = sorted(set(layers))
        removed = conn.execute(
            text("DELETE FROM basemap_features WHERE layer = ANY(:layers) AND NOT (feature_key = ANY(:keys))"),
            {"layers": loaded, "keys": keys},
        ).rowcount
        run.stats["layers"] = {layer: layers.count(layer) for layer in loaded}
        run.stats["replaced_removed"] = int(removed)

    return run_file_job(engine, JOB, path, body, source_crs=crs, mapping=mapping, force=force)
