"""GPS tracks of patrols and sanitation vehicles: read, clean, map-match, store, derive segment visits."""
