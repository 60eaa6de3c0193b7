"""The leaf layer: settings, database wiring, compiled queries, errors, global IDs and signing keys."""
