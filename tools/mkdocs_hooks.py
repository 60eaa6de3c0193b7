"""MkDocs hook: the repository's API.md becomes the site's `api/reference.md`.

API.md stays at the root (partners and the shared contract refer to it by that name); the site
shows the same file instead of a copy that could drift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

API_MD = Path(__file__).resolve().parent.parent / "API.md"
REFERENCE = "api/reference.md"


def on_files(files: Files, config: Any) -> Files:
    """Add API.md to the site's files under `api/reference.md`."""
    files.append(File.generated(config, REFERENCE, abs_src_path=str(API_MD)))
    return files
