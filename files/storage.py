"""Content-addressed file storage under `SITEDESK_FILES_DIR`.

A file's path comes from its SHA-256 only, never from a user-given name, so
no upload can choose where it lands.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from files.sniff import sniff_content_type

CHUNK = 64 * 1024
KEY_PATTERN = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$")


class FileTooLarge(Exception):
    pass


@dataclass(frozen=True)
class StoredFile:
    storage_key: str
    sha256: str
    size: int
    content_type: str


def storage_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def path_for(files_dir: Path, key: str) -> Path:
    if not KEY_PATTERN.match(key):
        raise ValueError("not a storage key")
    return files_dir / key


@dataclass(frozen=True)
class Received:
    """Bytes hashed into a temporary file beside storage, not yet in place."""

    temp_path: str
    stored: StoredFile


def receive(files_dir: Path, source: BinaryIO, max_bytes: int) -> Received:
    """Copy `source` into a temporary file (streaming, at most `max_bytes`) and hash it; blocking."""
    files_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    with tempfile.NamedTemporaryFile(dir=files_dir, delete=False, prefix=".upload-") as temp:
        try:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge()
                if len(head) < 512:
                    head += chunk[: 512 - len(head)]
                digest.update(chunk)
                temp.write(chunk)
            temp.flush()
            os.fsync(temp.fileno())
        except BaseException:
            temp.close()
            os.unlink(temp.name)
            raise
    sha = digest.hexdigest()
    stored = StoredFile(storage_key=storage_key(sha), sha256=sha, size=size, content_type=sniff_content_type(head))
    return Received(temp_path=temp.name, stored=stored)


def adopt(temp_path: str) -> Received:
    """A temporary file beside storage written by us (a cleaned image), hashed as `receive` does."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    with open(temp_path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            if len(head) < 512:
                head += chunk[: 512 - len(head)]
            size += len(chunk)
            digest.update(chunk)
    sha = digest.hexdigest()
    stored = StoredFile(storage_key=storage_key(sha), sha256=sha, size=size, content_type=sniff_content_type(head))
    return Received(temp_path=temp_path, stored=stored)


def place(files_dir: Path, received: Received) -> None:
    """Put received bytes at their key, replacing a file there (same content) atomically; blocking.

    Always replacing, never "exists, so skip", means the bytes are in place when this returns even
    if a clean-up removed the old file a moment before (files/uploads.py says why that matters).
    """
    target = files_dir / received.stored.storage_key
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(received.temp_path, target)


def forget(received: Received) -> None:
    """Remove the temporary file of bytes that were never placed."""
    try:
        os.unlink(received.temp_path)
    except FileNotFoundError:
        pass


def store(files_dir: Path, source: BinaryIO, max_bytes: int) -> StoredFile:
    """Receive and place at once, claiming nothing: for tools and tests that write rows directly
    (requests go through `files.uploads.store_file`)."""
    received = receive(files_dir, source, max_bytes)
    place(files_dir, received)
    return received.stored


def clean_filename(name: str | None, fallback: str = "file") -> str:
    """A display name with no path parts or control characters (the name is only ever shown)."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    name = name.strip().lstrip(".").strip()
    return name[:200] or fallback
