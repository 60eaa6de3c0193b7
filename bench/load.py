"""Load generation: `wrk` for peak throughput, a small asyncio client for constant rate.

wrk has no constant-rate mode (wrk2 and oha are not in Debian), so the
latency at a fixed rate comes from `constant_rate`: an open-loop client on
raw keep-alive HTTP/1.1 connections that sends request i at t0 + i/rate and
measures each latency from that scheduled moment, so a stalled server is
not hidden by a waiting client (no coordinated omission). `closed_loop` is
the fallback for peak throughput when wrk cannot be installed.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Request:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]

    def raw(self, host: str) -> bytes:
        lines = [
            f"{self.method} {self.path} HTTP/1.1",
            f"Host: {host}",
            f"Content-Length: {len(self.body)}",
            "Connection: keep-alive",
            *(f"{k}: {v}" for k, v in self.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads one response."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        body = b""
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            body += await self.reader.readexactly(size + 2)
            if size == 0:
                return status, body[:-2]
            body = body[:-2]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def fetch(host: str, port: int, request: Request) -> tuple[int, bytes]:
    """One request, synchronously (for checks)."""

    async def run() -> tuple[int, bytes]:
        connection = Connection(host, port)
        try:
            return await connection.send(request.raw(host))
        finally:
            connection.close()

    return asyncio.run(run())


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class LatencyResult:
    rate: float
    sent: int
    errors: int
    p50_ms: float
    p99_ms: float


async def _constant_rate(
    host: str, port: int, request: Request, rate: float, seconds: float, connections: int
) -> LatencyResult:
    payload = request.raw(host)
    total = max(1, int(rate * seconds))
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        connection = Connection(host, port)
        while (scheduled := await queue.get()) is not None:
            try:
                status, _ = await connection.send(payload)
                if status != 200:
                    errors += 1
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                connection.close()
                connection = Connection(host, port)
            latencies.append(time.perf_counter() - scheduled)
        connection.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(due)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return LatencyResult(
        rate=rate,
        sent=total,
        errors=errors,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
    )


def constant_rate(
    host: str, port: int, request: Request, rate: float, seconds: float, connections: int = 32
) -> LatencyResult:
    """p50/p99 latency (ms) at a fixed request rate, open loop."""
    try:
        import uvloop

        return uvloop.run(_constant_rate(host, port, request, rate, seconds, connections))
    except ImportError:
        return asyncio.run(_constant_rate(host, port, request, rate, seconds, connections))


async def _closed_loop(host: str, port: int, request: Request, seconds: float, connections: int) -> float:
    payload = request.raw(host)
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        connection = Connection(host, port)
        while time.perf_counter() < deadline:
            await connection.send(payload)
            done += 1
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return done / (time.perf_counter() - started)


def closed_loop(host: str, port: int, request: Request, seconds: float, connections: int = 16) -> float:
    """Requests per second with `connections` clients sending back to back (fallback for wrk)."""
    return asyncio.run(_closed_loop(host, port, request, seconds, connections))


WRK_SCRIPT = """wrk.method = "{method}"
wrk.body = [==[{body}]==]
{headers}
"""


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def wrk(
    host: str,
    port: int,
    request: Request,
    seconds: float,
    connections: int = 16,
    cpu: str | None = "1",
    timeout: float = 2.0,
) -> float:
    """Peak requests per second measured by wrk (one thread, `connections` connections); an answer
    later than `timeout` seconds is not counted."""
    headers = "\n".join(f'wrk.headers["{k}"] = [==[{v}]==]' for k, v in request.headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(method=request.method, body=request.body.decode(), headers=headers))
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, int(seconds))}s",
        f"--timeout={timeout:g}s",
        "-s",
        script.name,
        f"http://{host}:{port}{request.path}",
    ]
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", cpu, *command]
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} failed responses:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
