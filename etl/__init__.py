"""ETL: read the bureau's files, validate, transform (CRS, geocode, map-match), load into PostGIS."""
