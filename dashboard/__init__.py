"""The Dash app: pages for the wall display, squad leaders, street chiefs and the case list."""
