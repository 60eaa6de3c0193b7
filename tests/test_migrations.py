"""The committed migrations (models/migrations/) describe the models exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_models_and_migrations_agree() -> None:
    # A process of its own: the check sets up Tortoise's model registry, which must not
    # disturb the one this test session runs on.
    result = subprocess.run(
        [sys.executable, "-m", "tools.check_migrations"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
