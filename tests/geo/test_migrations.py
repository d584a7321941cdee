"""Migrations create every table with the right geometry types, SRIDs and GiST indexes; down and up again."""

from __future__ import annotations

from sqlalchemy import Engine, text

from geo.db.migrate import current_revision, downgrade, head_revision, upgrade
from geo.models import Base

EXPECTED_GEOMETRIES = {
    ("basemap_features", "geom"): "GEOMETRY",
    ("admin_areas", "geom"): "MULTIPOLYGON",
    ("admin_areas", "seat"): "POINT",
    ("squads", "station"): "POINT",
    ("jurisdictions", "geom"): "MULTIPOLYGON",
    ("street_segments", "geom"): "LINESTRING",
    ("places", "geom"): "POINT",
    ("cases", "geom"): "POINT",
    ("sanitation_routes", "geom"): "MULTILINESTRING",
    ("gps_fixes", "geom"): "POINT",
    ("warnings", "geom"): "POINT",
    ("gazetteer", "geom"): "GEOMETRY",
    ("address_points", "geom"): "POINT",
    ("route_graph_nodes", "geom"): "POINT",
    ("route_graph_edges", "geom"): "LINESTRING",
    ("patrol_plan_routes", "geom"): "MULTILINESTRING",
}


def _geometry_columns(engine: Engine) -> dict[tuple[str, str], tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns g "
                "WHERE f_table_schema = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_class c "
                "WHERE c.relnamespace = CAST(current_schema() AS regnamespace) AND c.relname = g.f_table_name "
                "AND c.relispartition)"  # the day partitions of gps_fixes are the parent's, not tables of their own
            )
        ).all()
    return {(t, c): (kind, srid) for t, c, kind, srid in rows}


def _gist_indexed(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.relname, a.attname FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_am am ON am.oid = i.relam JOIN pg_namespace n ON n.oid = t.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey) "
                "WHERE am.amname = 'gist' AND n.nspname = current_schema()"
            )
        ).all()
    return {(t, c) for t, c in rows}


def _tables(engine: Engine) -> set[str]:
    # information_schema, not the inspector: with search_path "schema, public" it lists public's tables too
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        ).scalars()
        return set(rows)


def test_every_table_exists(schema_engine: Engine) -> None:
    assert set(Base.metadata.tables) <= _tables(schema_engine)


def test_geometry_types_and_srids(schema_engine: Engine) -> None:
    found = _geometry_columns(schema_engine)
    for key, kind in EXPECTED_GEOMETRIES.items():
        assert found[key] == (kind, 4326), key
    assert set(found) == set(EXPECTED_GEOMETRIES)


def test_every_geometry_has_a_gist_index(schema_engine: Engine) -> None:
    assert set(EXPECTED_GEOMETRIES) <= _gist_indexed(schema_engine)


def test_models_match_the_migrations(schema_engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with schema_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": lambda o, n, t, r, c: not (t == "table" and r and c is None)}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_and_upgrade_again(schema_engine: Engine) -> None:
    assert current_revision(schema_engine) == head_revision()
    downgrade(schema_engine, "base")
    assert current_revision(schema_engine) is None
    assert _tables(schema_engine) == {"alembic_version"}
    upgrade(schema_engine)
    assert current_revision(schema_engine) == head_revision()
    assert set(_geometry_columns(schema_engine)) == set(EXPECTED_GEOMETRIES)
