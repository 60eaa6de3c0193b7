"""A private PostgreSQL cluster for fault tests: stopped and started at will without
touching the machine's shared server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.hardening.servers import free_port

BIN = Path("/usr/lib/postgresql/15/bin")


def missing() -> str | None:
    """Why a private cluster cannot be made here, or None."""
    if not (BIN / "initdb").exists() or not (BIN / "pg_ctl").exists():
        return f"PostgreSQL server binaries not found in {BIN}"
    if shutil.which("runuser") is None:
        return "runuser is not available"
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        return "no `postgres` OS user to run the cluster as"
    return None


@dataclass
class Cluster:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/sitedesk"

    def _ctl(self, *args: str) -> None:
        as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args)

    def start(self) -> None:
        self._ctl(
            "-l",
            str(self.data / "server.log"),
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}",
            "start",
        )

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")


def as_postgres(*command: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """initdb into a temporary directory, start on a free port, yield; stop and remove after."""
    root = Path(tempfile.mkdtemp(prefix="sitedesk-pg-"))
    shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o700)
    cluster = Cluster(root / "data", free_port())
    try:
        as_postgres(
            str(BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"
        )
        cluster.start()
        as_postgres(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "sitedesk")
        yield cluster
    finally:
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(root, ignore_errors=True)
