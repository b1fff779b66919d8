"""One module per top-level command; each exposes `command` (a click command or group)."""
