"""One JSON POST /graphql straight into the ASGI app, no client or socket: what the in-process
measurements (`bench.executor`'s HTTP level, `bench.profile`) time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


def graphql_post(app: Any, body: bytes, token: str) -> Callable[[], Awaitable[bytes]]:
    """A function that sends `body` with `token` to `app` and answers the response body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }

    async def post() -> bytes:
        chunks: list[bytes] = []
        done = False

        async def receive() -> dict[str, Any]:
            nonlocal done
            if done:
                return {"type": "http.disconnect"}
            done = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(dict(scope), receive, send)
        return b"".join(chunks)

    return post
