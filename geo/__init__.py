"""Core of the enforcement GIS: settings, database, models, coordinate systems, geocoding."""
