"""Readers: turn the files offices hand over into DataFrames / GeoDataFrames, one module per family."""
