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


def store(files_dir: Path, source: BinaryIO, max_bytes: int) -> StoredFile:
    """Copy `source` into storage (streaming, at most `max_bytes`); blocking, run it in a thread."""
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
    key = storage_key(sha)
    target = files_dir / key
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        os.unlink(temp.name)  # same content stored before
    else:
        os.replace(temp.name, target)
    return StoredFile(storage_key=key, sha256=sha, size=size, content_type=sniff_content_type(head))


def clean_filename(name: str | None, fallback: str = "file") -> str:
    """A display name with no path parts or control characters (the name is only ever shown)."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    name = name.strip().lstrip(".").strip()
    return name[:200] or fallback
