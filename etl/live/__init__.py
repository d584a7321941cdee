"""The live way in: batches of GPS fixes and case events from devices, through the same rules as the files."""
