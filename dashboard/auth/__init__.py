"""Access control of the dashboard: users and roles, login sessions, kiosk tokens, scopes, audit log."""
