"""The files backend of a test run: the directory (default) or S3, served by moto on 127.0.0.1.

`SITEDESK_TEST_FILES=s3` runs the suite's files on a real S3 HTTP API (moto's server mode, one
in-process server per run, a bucket per run); tests look at stored files through these helpers,
never at `settings.files_dir` directly, so the same assertions hold for both backends.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.settings import Settings
from files.backends import store_for

TEST_BUCKET = "sitedesk-test"
# Fixed, fake credentials: boto3 signs with them and moto accepts anything. Set in this process
# (and so in every server it starts) only, never read from the machine.
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sitedesk-test",
    "AWS_SECRET_ACCESS_KEY": "sitedesk-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def s3_requested() -> bool:
    return os.environ.get("SITEDESK_TEST_FILES", "directory").strip().lower() == "s3"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def moto_s3() -> Iterator[str]:
    """A real S3 HTTP API on 127.0.0.1 (moto's server mode) with the test bucket; yields its URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    os.environ.update(S3_CREDENTIALS)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=TEST_BUCKET)
        yield endpoint
    finally:
        server.stop()


def s3_environment(endpoint: str, prefix: str | None = None) -> dict[str, str]:
    """Settings variables naming a fresh prefix of the test bucket."""
    return {
        "SITEDESK_FILES_URL": f"s3://{TEST_BUCKET}/{prefix or 'run-' + uuid.uuid4().hex[:10]}",
        "SITEDESK_S3_ENDPOINT_URL": endpoint,
    }


def files_env(settings: Settings) -> dict[str, str]:
    """The environment variables that name `settings`' files backend (for processes tests start)."""
    env = {"SITEDESK_FILES_DIR": str(settings.files_dir)}
    if settings.files_url:
        env["SITEDESK_FILES_URL"] = settings.files_url
    if settings.s3_endpoint_url:
        env["SITEDESK_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
    return env


def another_backend(settings: Settings, directory: Path) -> dict[str, str]:
    """Variables naming an empty backend of the same kind as `settings`' (a restore target)."""
    if settings.files_url.startswith("s3://"):
        assert settings.s3_endpoint_url
        return {"SITEDESK_FILES_DIR": str(directory), **s3_environment(settings.s3_endpoint_url)}
    return {"SITEDESK_FILES_DIR": str(directory)}


def stored_files(settings: Settings) -> set[str]:
    """Every stored file's key, and every temporary upload left in the local directory."""
    store = store_for(settings)
    keys = {item.key for item in store.list()}
    if settings.files_dir.is_dir():
        keys |= {p.name for p in settings.files_dir.glob(".upload-*")}
    return keys


def stored_bytes(settings: Settings, key: str) -> bytes | None:
    """The bytes stored at `key`, or None."""
    try:
        return store_for(settings).read_bytes(key)
    except FileNotFoundError:
        return None
