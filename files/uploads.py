"""Uploads as they arrive, written to storage all or nothing, and removed again when nothing refers to them.

Storage is content-addressed (files/storage.py): two requests storing the same bytes share one
file. So a request that fails must not simply delete "its" file once no committed row points at
it: another request may have stored the same bytes and be about to commit a row that does.

The design, which holds for several processes on one PostgreSQL database and one files backend
(a shared directory or an S3 bucket, files/backends.py):

- Every storage key has a row in `file_claim` whose `in_flight` counts the requests that stored
  the key and have neither committed nor given up. A request claims a key (`in_flight + 1`) and
  puts its bytes in place in one short transaction, *before* the change that will reference it;
  the bytes always replace what is there (same content), so they are in place even if a clean-up
  removed the file a moment earlier.
- After its change committed, a request releases its claims (`release`): its rows now hold the file.
- A request that gives up (`discard_unreferenced`) drops its claims and deletes a file only when,
  in the same transaction, nobody else has it in flight and no attachment, form file, thumbnail or export row names it.
  A row deleted later (`remove_if_unreferenced`) deletes its file under the same condition.

Every one of these transactions first writes the key's `file_claim` row, so on PostgreSQL they
take that row's lock and run one after another per key (SQLite has one writer anyway): a
clean-up either runs before a claim (the claimer's bytes are placed afterwards) or sees it (and
keeps the file). A request's claim is released only after its rows committed, so a clean-up that
no longer sees the claim sees the rows. A process that dies holding a claim leaves the count
above zero: the file is then kept, never lost. Rows of `file_claim` stay (one per stored key).

`sitedesk files gc` (`collect_garbage`) removes what such deaths and failed claim transactions
leave: files older than a day that no row names. Every claim writes its file in the same request
(a rename, an upload or a re-upload), so a file last written over a day ago has no live claim:
a count above zero on it is a dead process's and is reset.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import BadUserInput
from core.settings import Settings
from files.backends import remove_stale_uploads, store_for
from files.images import ImageRefused, clean_image
from files.storage import FileTooLarge, Received, StoredFile, adopt, clean_filename, forget, receive
from models.files import FileClaim, Thumbnail
from models.forms import FormFile
from models.personal_data import PersonExport
from models.tickets import Attachment


@dataclass
class Upload:
    """A file as it arrives: a name and a readable binary stream."""

    filename: str | None
    stream: BinaryIO


async def store_file(settings: Settings, source: BinaryIO, max_bytes: int) -> StoredFile:
    """Store bytes and claim their key; the caller must `release` or `discard_unreferenced` it."""
    store = await asyncio.to_thread(store_for, settings)  # the first call builds the S3 client
    received = await asyncio.to_thread(receive, store.spool_dir, source, max_bytes)
    try:
        # Photos lose their metadata before anything is stored (files/images.py); a worker thread
        # does the decoding, so the event loop keeps serving meanwhile.
        received = await asyncio.to_thread(_cleaned, received, store.spool_dir, settings.max_image_pixels)
    except BaseException:
        await asyncio.to_thread(forget, received)
        raise
    return await _claim_and_place(store, received)


async def store_spooled(settings: Settings, temp_path: str) -> StoredFile:
    """Store a file written beside storage by this process (an export's ZIP) and claim its key,
    without copying it again; the caller must `release` or `discard_unreferenced` it."""
    store = await asyncio.to_thread(store_for, settings)
    received = await asyncio.to_thread(adopt, temp_path)
    return await _claim_and_place(store, received)


async def _claim_and_place(store: Any, received: Received) -> StoredFile:
    key = received.stored.storage_key
    try:
        # S3: the upload itself, outside the transaction (only a re-check happens inside it). An
        # object uploaded here whose claim then fails is an orphan for `sitedesk files gc`.
        await asyncio.to_thread(store.prepare, received)
        async with in_transaction() as connection:
            await FileClaim.bulk_create([FileClaim(storage_key=key)], ignore_conflicts=True, using_db=connection)
            await FileClaim.filter(storage_key=key).using_db(connection).update(in_flight=F("in_flight") + 1)
            await asyncio.to_thread(store.place, received)
    except BaseException:
        await asyncio.to_thread(forget, received)
        raise
    return received.stored


def _cleaned(received: Received, spool_dir: Any, max_pixels: int) -> Received:
    """The received file, or its image re-encoded without metadata (the original then removed)."""
    cleaned = clean_image(received.temp_path, received.stored.content_type, spool_dir, max_pixels)
    if cleaned is None:
        return received
    forget(received)
    return adopt(cleaned.path)


def stored_filename(name: str, content_type: str) -> str:
    """The name shown for a stored file: a HEIC/HEIF photo stored as JPEG is named `.jpg`."""
    stem, dot, extension = name.rpartition(".")
    if dot and stem and content_type == "image/jpeg" and extension.lower() in ("heic", "heif"):
        return f"{stem}.jpg"
    return name


async def store_uploads(settings: Settings, uploads: list[Upload], field: str) -> list[tuple[str, StoredFile]]:
    """Write uploads to storage off the event loop; too many or too large → `BAD_USER_INPUT`."""
    if len(uploads) > settings.max_files_per_request:
        raise BadUserInput(f"At most {settings.max_files_per_request} files per request.", field=field)
    stored: list[tuple[str, StoredFile]] = []
    try:
        for upload in uploads:
            result = await store_file(settings, upload.stream, settings.max_upload_bytes)
            stored.append((stored_filename(clean_filename(upload.filename), result.content_type), result))
    except BaseException as exc:
        # Nothing half-stored: files written before the failure go too.
        await discard_unreferenced(settings, [s for _, s in stored])
        if isinstance(exc, FileTooLarge):
            raise BadUserInput(f"A file is larger than {settings.max_upload_mb} MB.", field=field) from None
        if isinstance(exc, ImageRefused):
            raise BadUserInput(
                f"An image could not be read (damaged, or more than {settings.max_image_pixels} pixels).",
                field=field,
            ) from None
        raise
    return stored


async def release(stored: list[StoredFile]) -> None:
    """The change referencing these stored files committed: drop this request's claims."""
    for item in stored:
        await FileClaim.filter(storage_key=item.storage_key).update(in_flight=F("in_flight") - 1)


async def discard_unreferenced(settings: Settings, stored: list[StoredFile]) -> None:
    """Give up files this request stored (after a refused or failed change): drop its claims and
    remove the bytes nobody else has in flight and no attachment or form file points at."""
    for item in stored:
        await _settle(settings, item.storage_key, given_up=1)


async def remove_if_unreferenced(settings: Settings, keys: list[str]) -> None:
    """After rows naming these keys were deleted: remove the bytes nothing holds any more."""
    for key in keys:
        await _settle(settings, key, given_up=0)


async def is_referenced(key: str, connection: Any) -> bool:
    """Whether a row names this storage key: an attachment, a form file, a thumbnail or an export."""
    return (
        await Attachment.filter(storage_key=key).using_db(connection).exists()
        or await FormFile.filter(storage_key=key).using_db(connection).exists()
        or await Thumbnail.filter(storage_key=key).using_db(connection).exists()
        or await PersonExport.filter(storage_key=key).using_db(connection).exists()
    )


async def _settle(settings: Settings, key: str, given_up: int) -> None:
    async with in_transaction() as connection:
        await FileClaim.bulk_create([FileClaim(storage_key=key)], ignore_conflicts=True, using_db=connection)
        # Writing the row takes its lock (PostgreSQL): claims and clean-ups of this key take turns.
        await FileClaim.filter(storage_key=key).using_db(connection).update(in_flight=F("in_flight") - given_up)
        claims = await FileClaim.filter(storage_key=key).using_db(connection).values("in_flight")
        if claims and claims[0]["in_flight"] > 0:
            return
        if await is_referenced(key, connection):
            return
        await asyncio.to_thread(lambda: store_for(settings).delete(key))
        await _drop_thumbnails(settings, key, connection)


async def _drop_thumbnails(settings: Settings, source_key: str, connection: Any) -> None:
    """The thumbnails of an image whose bytes are gone go with it (rows and files)."""
    keys = await Thumbnail.filter(source_key=source_key).using_db(connection).values_list("storage_key", flat=True)
    if not keys:
        return
    await Thumbnail.filter(source_key=source_key).using_db(connection).delete()
    for thumbnail_key in set(keys):
        if not await is_referenced(str(thumbnail_key), connection):
            await asyncio.to_thread(store_for(settings).delete, str(thumbnail_key))


@dataclass(frozen=True)
class Collected:
    examined: int
    removed: list[str]
    temporary: int


async def collect_garbage(settings: Settings, older_than_seconds: float = 86400.0) -> Collected:
    """Remove stored files older than `older_than_seconds` that no attachment or form file names,
    and temporary uploads as old; `sitedesk files gc`."""
    store = await asyncio.to_thread(store_for, settings)
    cutoff = time.time() - older_than_seconds
    objects = await asyncio.to_thread(lambda: [o for o in store.list() if o.modified < cutoff])
    removed: list[str] = []
    for item in objects:
        async with in_transaction() as connection:
            await FileClaim.bulk_create([FileClaim(storage_key=item.key)], ignore_conflicts=True, using_db=connection)
            # Writing the row takes its lock: a claim either comes after (and re-writes the file)
            # or came before and re-wrote it, so the file's age is read again under the lock.
            await FileClaim.filter(storage_key=item.key).using_db(connection).update(in_flight=F("in_flight"))
            current = await asyncio.to_thread(store.stat, item.key)
            if current is None or current.modified >= cutoff:
                continue
            if await is_referenced(item.key, connection):
                continue
            await FileClaim.filter(storage_key=item.key).using_db(connection).update(in_flight=0)
            await asyncio.to_thread(store.delete, item.key)
            await _drop_thumbnails(settings, item.key, connection)
            removed.append(item.key)
    temporary = await asyncio.to_thread(remove_stale_uploads, store, cutoff)
    return Collected(len(objects), removed, temporary)
