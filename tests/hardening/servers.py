"""Real Sitedesk server processes (`sitedesk serve` under uvicorn) for multi-process tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.settings import Settings
from tests.storage import files_env

ROOT = Path(__file__).parents[2]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SITEDESK_DATABASE_URL": settings.database_url,
        **files_env(settings),  # the run's files backend: a directory or S3 (tests/storage.py)
        "SITEDESK_SECRET_KEYS": ",".join(settings.secret_keys),
        "SITEDESK_ENV": "test",
        **extra,
    }


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until_listening(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.output()}")
        try:
            httpx.get(server.url + "/health", timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start within {START_TIMEOUT} s:\n{server.output()}")


@contextmanager
def running_servers(
    env: dict[str, str], count: int, log_dir: Path, args: tuple[str, ...] = ()
) -> Iterator[list[Server]]:
    """Start `count` server processes (`args`: more `serve` options); on exit, stop them (SIGTERM, then SIGKILL)."""
    servers: list[Server] = []
    try:
        for index in range(count):
            port = free_port()
            log = log_dir / f"server-{index}-{port}.log"
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            servers.append(Server(process, port, log))
        for server in servers:
            wait_until_listening(server)
        yield servers
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
