"""Stored files: content-addressed storage, content sniffing and signed download URLs."""
