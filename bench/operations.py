"""Operations benchmark (issue 19): 1 vs 2 workers on PostgreSQL, and file throughput S3 vs directory.

    python -m bench.operations [--database-url postgres://postgres@127.0.0.1:5432/postgres]
                               [--tickets 5019] [--seconds 8] [--rounds 2] [--files 4] [--file-mb 8]

1. Throughput: `sitedesk serve --workers 1` and `--workers 2` on one PostgreSQL database of
   `--tickets` generated tickets (bench/generate.py, database `sitedesk_bench_<tickets>`, dropped
   after), the probe scenario (a customer user's `tickets(first: 50)`), measured with wrk (16
   connections) in alternating rounds; the best round of each counts. wrk is not pinned: on a
   2-core machine it shares the cores with the workers, as a load balancer's traffic would not.
2. Files: `--files` uploads of `--file-mb` MB each (`addAttachment`, multipart) and their
   downloads (signed URL) through one server process, with files in a directory and in S3 (moto's
   S3 server on 127.0.0.1, in this process: the S3 figure includes moto's own Python cost).

Writes bench/var/operations.md and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from bench import load
from bench.generate import drop_postgres, generate
from bench.run import SECRET, bench_settings, graphql_request, tokens
from bench.scenarios import builtin

ROOT = Path(__file__).parents[1]
VAR = ROOT / "bench" / "var"
HOST = "127.0.0.1"
ADD = """mutation AddAttachment($ticketId: ID!, $file: Upload!) { addAttachment(ticketId: $ticketId, file: $file) {
  id size downloadUrl } }"""


def log(message: str) -> None:
    print(f"[operations] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Serve:
    """`sitedesk serve` as an operator runs it (uvicorn, text logs to a file)."""

    def __init__(self, name: str, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.log_path = VAR / f"operations-{name}.log"
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 — closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", HOST, "--port", str(self.port)]
            + ["--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {name} exited; see {self.log_path}")
            try:
                if httpx.get(f"http://{HOST}:{self.port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server {name} did not start")
        if workers > 1:
            time.sleep(3)  # let every worker finish starting

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


def base_env(database_url: str, files_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SITEDESK_")},
        "SITEDESK_DATABASE_URL": database_url,
        "SITEDESK_ENV": "production",
        "SITEDESK_SECRET_KEY": SECRET,
        "SITEDESK_FILES_DIR": str(files_dir),
        "SITEDESK_ACCESS_TOKEN_MINUTES": "600",
        "SITEDESK_MAIL_SENDER": "false",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def workers_run(args: argparse.Namespace, url: str, files_dir: Path, request: load.Request) -> list[str]:
    results: dict[int, list[float]] = {1: [], 2: []}
    for round_ in range(args.rounds):
        for workers in (1, 2):
            server = Serve(f"workers-{workers}", base_env(url, files_dir), workers)
            try:
                load.wrk(HOST, server.port, request, 2, cpu=None)  # warm-up (caches, connection pools)
                rps = load.wrk(HOST, server.port, request, args.seconds, cpu=None)
            finally:
                server.stop()
            results[workers].append(rps)
            log(f"round {round_ + 1}: {workers} worker(s): {rps:.0f} req/s")
    best = {w: max(v) for w, v in results.items()}
    return [
        "| workers | req/s per round | best | vs 1 worker |",
        "| --- | --- | --- | --- |",
        *(
            f"| {w} | {', '.join(f'{r:.0f}' for r in results[w])} | {best[w]:.0f} | {best[w] / best[1]:.2f}× |"
            for w in (1, 2)
        ),
    ]


def files_run(args: argparse.Namespace, url: str, files_dir: Path, token: str, ticket_id: int) -> list[str]:
    from core.ids import to_global_id
    from tests.storage import moto_s3, s3_environment

    rows = ["| backend | upload MB/s | download MB/s |", "| --- | --- | --- |"]
    size = args.file_mb * 1024 * 1024
    with moto_s3() as endpoint:
        for backend, extra in (
            ("directory", {"SITEDESK_FILES_DIR": str(files_dir / f"dir-{uuid.uuid4().hex[:6]}")}),
            ("S3 (moto on 127.0.0.1)", {**s3_environment(endpoint), "SITEDESK_FILES_DIR": str(files_dir / "spool")}),
        ):
            server = Serve("files", {**base_env(url, files_dir), **extra, "SITEDESK_MAX_UPLOAD_MB": "64"}, 1)
            try:
                payloads = [os.urandom(size) for _ in range(args.files)]
                variables = {"ticketId": to_global_id("Ticket", ticket_id), "file": None}
                urls = []
                started = time.perf_counter()
                for data in payloads:
                    response = httpx.post(
                        server.url + "/graphql",
                        data={
                            "operations": json.dumps({"query": ADD, "variables": variables}),
                            "map": json.dumps({"0": ["variables.file"]}),
                        },
                        files={"0": ("bench.bin", data, "application/octet-stream")},
                        headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"},
                        timeout=300,
                    )
                    body = response.json()
                    assert not body.get("errors"), body
                    urls.append(body["data"]["addAttachment"]["downloadUrl"])
                upload = len(payloads) * args.file_mb / (time.perf_counter() - started)
                started = time.perf_counter()
                for data, link in zip(payloads, urls, strict=True):
                    got = httpx.get(server.url + link, timeout=300)
                    assert got.status_code == 200 and len(got.content) == len(data)
                download = len(payloads) * args.file_mb / (time.perf_counter() - started)
            finally:
                server.stop()
            log(f"{backend}: upload {upload:.1f} MB/s, download {download:.1f} MB/s")
            rows.append(f"| {backend} | {upload:.1f} | {download:.1f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--tickets", type=int, default=5019)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--file-mb", type=int, default=8)
    args = parser.parse_args(argv)
    VAR.mkdir(parents=True, exist_ok=True)
    files_dir = VAR / "operations-files"
    log(f"generating {args.tickets} tickets on PostgreSQL ...")
    url, world = generate(args.tickets, args.database_url, files_dir)
    try:
        settings = bench_settings(url, files_dir)
        token = tokens(settings, world)["customer_user"]
        probe = next(s for s in builtin() if s.name == "probe")
        request = graphql_request(probe, world, token)
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        workers = workers_run(args, url, files_dir, request)
        files = files_run(args, url, files_dir, token, world.detail_ticket_ids[0])
        load_after = Path("/proc/loadavg").read_text().split()[:3]
    finally:
        drop_postgres(url)
    report = "\n".join(
        [
            "# Operations benchmark (issue 19)",
            "",
            f"Command: `python -m bench.operations {' '.join(argv or sys.argv[1:])}`".replace("  ", " "),
            f"Machine: {os.cpu_count()} cores, load average {' '.join(load_before)} before and "
            f"{' '.join(load_after)} after (other jobs share the machine: figures are indicative).",
            "",
            f"## Probe (customer user `tickets(first: 50)`, {args.tickets} tickets, PostgreSQL), wrk 16 connections",
            "",
            *workers,
            "",
            f"## Files: {args.files} × {args.file_mb} MB, one process, upload (`addAttachment`) and signed download",
            "",
            *files,
            "",
        ]
    )
    (VAR / "operations.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
