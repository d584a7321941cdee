"""One module per ETL job; each exposes ``load(engine, path, ...) -> RunReport``."""
