"""The `sitedesk` command as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def run(args: list[str], env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_serve_refuses_an_unmigrated_database_with_one_line(tmp_path):
    env = {**os.environ, "SITEDESK_DATABASE_URL": f"sqlite://{tmp_path / 'fresh.db'}"}
    result = run(["serve", "--port", "0"], env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].endswith("run `sitedesk migrate` first")


def test_migrate_then_create_admin_then_export_schema(tmp_path):
    env = {**os.environ, "SITEDESK_DATABASE_URL": f"sqlite://{tmp_path / 'cli.db'}"}
    assert run(["migrate"], env).returncode == 0
    created = run(["create-admin", "--email", "Boss@Example.test", "--password", "boss-password-1"], env)
    assert created.returncode == 0, created.stderr
    assert "boss@example.test" in created.stdout
    again = run(["create-admin", "--email", "boss@example.test", "--password", "boss-password-2"], env)
    assert again.returncode == 0, again.stderr
    exported = run(["export-schema"], env)
    assert exported.stdout == (ROOT / "schema.graphql").read_text()


def test_seed_demo_logs_only_what_an_operator_needs(tmp_path):
    env = {
        **os.environ,
        "SITEDESK_DATABASE_URL": f"sqlite://{tmp_path / 'demo.db'}",
        "SITEDESK_FILES_DIR": str(tmp_path / "files"),
    }
    assert run(["migrate"], env).returncode == 0
    seeded = run(["seed-demo"], env, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    assert "admin@sitedesk.example" in seeded.stdout
    # Before, fpdf2's font subsetting logged 375 fontTools INFO lines here.
    assert "fontTools" not in seeded.stderr
    assert len(seeded.stderr.splitlines()) < 10, seeded.stderr
