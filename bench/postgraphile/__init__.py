"""PostGraphile 5, the benchmark's peer on PostgreSQL (`peer.py`; the Node side in `server.mjs`)."""
