"""Where stored files live: a directory (`file://`, the default) or an S3-compatible bucket (`s3://`).

Both hold the same content-addressed keys (files/storage.py). An upload is always hashed into a
temporary file in the local directory first (its key is its SHA-256, known only at the end), then
`prepare`d (S3: uploaded, multipart above `MULTIPART_THRESHOLD`) before any claim transaction and
`place`d inside it (directory: an atomic rename; S3: re-uploaded only if a clean-up removed the
object meanwhile). Every method blocks: callers on the event loop use `asyncio.to_thread`.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from core.settings import Settings
from files.storage import CHUNK, KEY_PATTERN, Received, StoredFile, forget, path_for, receive

MULTIPART_THRESHOLD = 8 * 1024 * 1024
MULTIPART_CHUNK = 8 * 1024 * 1024
PRESIGNED_SECONDS = 60


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: float  # seconds since the epoch


class FileStore:
    """The interface both backends implement (the directory one is the reference)."""

    spool_dir: Path
    url: str

    def prepare(self, received: Received) -> None:
        """Work that may happen before the claim transaction (S3: the upload)."""

    def place(self, received: Received) -> None:
        """Make sure the bytes are at their key when this returns (inside the claim transaction)."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def stat(self, key: str) -> StoredObject | None:
        raise NotImplementedError

    def open(self, key: str) -> tuple[int, Iterator[bytes]]:
        """(size, chunks) of a stored file; `FileNotFoundError` when it is not there."""
        raise NotImplementedError

    def reader(self, key: str) -> tuple[int, BinaryIO]:
        """(size, a readable stream) of a stored file, for copying it elsewhere (backups)."""
        size, chunks = self.open(key)
        return size, io.BufferedReader(_ChunkReader(chunks), CHUNK)

    def read_bytes(self, key: str) -> bytes:
        _, chunks = self.open(key)
        return b"".join(chunks)

    def put(self, key: str, source: BinaryIO) -> None:
        """Write bytes known to belong at `key` (restore), streaming."""
        raise NotImplementedError

    def list(self) -> Iterator[StoredObject]:
        """Every stored file (temporary uploads aside)."""
        raise NotImplementedError

    def local_path(self, key: str) -> Path | None:
        """A path on this machine holding the file, where the backend has one."""
        return None

    def presigned_url(self, key: str, filename: str, content_type: str, disposition: str) -> str | None:
        """A short-lived URL of the store itself, where the backend and the settings allow it."""
        return None

    def ping(self) -> None:
        """Raise when the backend does not answer."""
        raise NotImplementedError

    def store(self, source: BinaryIO, max_bytes: int) -> StoredFile:
        """Receive and place at once, claiming nothing: for tools and tests that write rows directly
        (requests go through `files.uploads.store_file`)."""
        received = receive(self.spool_dir, source, max_bytes)
        try:
            self.prepare(received)
            self.place(received)
        finally:
            forget(received)
        return received.stored


class _ChunkReader(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            self.pending = next(self.chunks, b"")
            if not self.pending:
                return 0
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()
        super().close()


class DirectoryStore(FileStore):
    def __init__(self, directory: Path) -> None:
        self.spool_dir = directory
        self.url = f"file://{directory.resolve()}"

    def place(self, received: Received) -> None:
        # Always replacing, never "exists, so skip": the bytes are in place when this returns even
        # if a clean-up removed the old file a moment before (files/uploads.py says why).
        target = path_for(self.spool_dir, received.stored.storage_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(received.temp_path, target)

    def delete(self, key: str) -> None:
        try:
            os.unlink(path_for(self.spool_dir, key))
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return path_for(self.spool_dir, key).is_file()

    def stat(self, key: str) -> StoredObject | None:
        try:
            found = path_for(self.spool_dir, key).stat()
        except FileNotFoundError:
            return None
        return StoredObject(key, found.st_size, found.st_mtime)

    def open(self, key: str) -> tuple[int, Iterator[bytes]]:
        handle = open(path_for(self.spool_dir, key), "rb")  # closed by the generator

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        return os.fstat(handle.fileno()).st_size, chunks()

    def put(self, key: str, source: BinaryIO) -> None:
        target = path_for(self.spool_dir, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, prefix=".upload-") as temp:
            shutil.copyfileobj(source, temp, CHUNK)
        os.replace(temp.name, target)

    def list(self) -> Iterator[StoredObject]:
        if not self.spool_dir.is_dir():
            return
        for path in sorted(self.spool_dir.rglob("*")):
            key = path.relative_to(self.spool_dir).as_posix()
            if KEY_PATTERN.match(key) and path.is_file():  # skips `.upload-*` files being written
                stat = path.stat()
                yield StoredObject(key, stat.st_size, stat.st_mtime)

    def local_path(self, key: str) -> Path:
        return path_for(self.spool_dir, key)

    def ping(self) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(self.spool_dir, os.W_OK):
            raise OSError(f"{self.spool_dir} is not writable")


class S3Store(FileStore):
    """An S3-compatible bucket (AWS, MinIO, Ceph, Garage) through boto3.

    Credentials come from boto3's standard chain (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    `AWS_SESSION_TOKEN`, `AWS_DEFAULT_REGION`, profiles, instance roles); `SITEDESK_S3_ENDPOINT_URL`
    names a store other than AWS (path-style addressing then).
    """

    def __init__(self, url: str, spool_dir: Path, endpoint_url: str | None, redirect: bool) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.url = url
        self.spool_dir = spool_dir
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.redirect = redirect
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=20,
        )
        session = boto3.session.Session()
        region = session.region_name or "us-east-1"
        # boto3 clients are thread-safe; one per store, used from worker threads.
        self.client: Any = session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
        self.transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNK, use_threads=False
        )

    def _object(self, key: str) -> str:
        if not KEY_PATTERN.match(key):
            raise ValueError("not a storage key")
        return self.prefix + key

    def _upload(self, path: str, stored: StoredFile) -> None:
        self.client.upload_file(
            path,
            self.bucket,
            self._object(stored.storage_key),
            ExtraArgs={"ContentType": stored.content_type},
            Config=self.transfer,
        )

    def prepare(self, received: Received) -> None:
        self._upload(received.temp_path, received.stored)

    def place(self, received: Received) -> None:
        # Uploaded in `prepare`; a clean-up that ran between then and this claim may have removed it.
        if not self.exists(received.stored.storage_key):
            self._upload(received.temp_path, received.stored)
        forget(received)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def stat(self, key: str) -> StoredObject | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredObject(key, int(head["ContentLength"]), head["LastModified"].timestamp())

    def open(self, key: str) -> tuple[int, Iterator[bytes]]:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from None
            raise
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return int(answer["ContentLength"]), chunks()

    def put(self, key: str, source: BinaryIO) -> None:
        self.client.upload_fileobj(source, self.bucket, self._object(key), Config=self.transfer)

    def list(self) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if KEY_PATTERN.match(key):
                    yield StoredObject(key, int(item["Size"]), item["LastModified"].timestamp())

    def presigned_url(self, key: str, filename: str, content_type: str, disposition: str) -> str | None:
        if not self.redirect:
            return None
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._object(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
            ExpiresIn=PRESIGNED_SECONDS,
        )
        return url

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


_stores: dict[tuple[str, str, str | None, bool], FileStore] = {}
_lock = threading.Lock()


def store_for(settings: Settings) -> FileStore:
    """The files backend the settings name (one per process and configuration)."""
    location = settings.files_location
    cache_key = (location, str(settings.files_dir), settings.s3_endpoint_url, settings.files_redirect)
    with _lock:
        found = _stores.get(cache_key)
        if found is None:
            if location.startswith("s3://"):
                found = S3Store(location, settings.files_dir, settings.s3_endpoint_url, settings.files_redirect)
            else:
                found = DirectoryStore(settings.files_dir)
            _stores[cache_key] = found
        return found


def readable(store: FileStore, key: str) -> Path | bytes:
    """What an image decoder can open: the local path, or the bytes of a remote file."""
    return store.local_path(key) or store.read_bytes(key)


def remove_stale_uploads(store: FileStore, older_than: float) -> int:
    """Temporary `.upload-*` files left by a process that died mid-upload."""
    removed = 0
    if not store.spool_dir.is_dir():
        return 0
    for path in store.spool_dir.glob(".upload-*"):
        try:
            if path.stat().st_mtime < older_than:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed
