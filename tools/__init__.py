"""Developer checks run by `make check` (not part of the installed service)."""
