"""The running service: settings, database wiring, the ASGI app and the CLI."""
