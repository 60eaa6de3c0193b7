"""Uploads as they arrive, written to storage all or nothing, and removed again when nothing refers to them."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import BinaryIO

from core.errors import BadUserInput
from core.settings import Settings
from files.storage import FileTooLarge, StoredFile, clean_filename, path_for, store
from models.forms import FormFile
from models.tickets import Attachment


@dataclass
class Upload:
    """A file as it arrives: a name and a readable binary stream."""

    filename: str | None
    stream: BinaryIO


async def store_uploads(settings: Settings, uploads: list[Upload], field: str) -> list[tuple[str, StoredFile]]:
    """Write uploads to storage off the event loop; too many or too large → `BAD_USER_INPUT`."""
    if len(uploads) > settings.max_files_per_request:
        raise BadUserInput(f"At most {settings.max_files_per_request} files per request.", field=field)
    stored: list[tuple[str, StoredFile]] = []
    try:
        for upload in uploads:
            result = await asyncio.to_thread(store, settings.files_dir, upload.stream, settings.max_upload_bytes)
            stored.append((clean_filename(upload.filename), result))
    except BaseException as exc:
        # Nothing half-stored: files written before the failure go too.
        await discard_unreferenced(settings, [s for _, s in stored])
        if isinstance(exc, FileTooLarge):
            raise BadUserInput(f"A file is larger than {settings.max_upload_mb} MB.", field=field) from None
        raise
    return stored


async def discard_unreferenced(settings: Settings, stored: list[StoredFile]) -> None:
    """Remove stored bytes no attachment or form file points at (after a refused or failed change)."""
    for item in stored:
        if (
            not await Attachment.filter(storage_key=item.storage_key).exists()
            and not await FormFile.filter(storage_key=item.storage_key).exists()
        ):
            try:
                os.unlink(path_for(settings.files_dir, item.storage_key))
            except FileNotFoundError:
                pass
