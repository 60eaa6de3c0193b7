"""The HTTP pipeline's tests: a real server on 127.0.0.1 for the browser, helpers for raw requests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn

from core.settings import Settings
from server.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def live_server(settings: Settings) -> AsyncIterator[str]:
    """The app served by uvicorn in this event loop on a free port of 127.0.0.1 (stopped after the test)."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, manage_database=False),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
