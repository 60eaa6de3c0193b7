"""The download route behind signed URLs."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from core.settings import Settings
from files.backends import store_for
from files.images import THUMBNAIL_SOURCES, THUMBNAIL_TYPE, ImageRefused, check_thumbnail_size
from files.signing import check_signed
from files.sniff import IMAGE_TYPES
from files.thumbnails import thumbnail_for
from models.forms import FormFile
from models.personal_data import ExportStatus, PersonExport
from models.tickets import Attachment

# Signed-URL kinds and the rows they name (each with filename, content_type, storage_key).
DOWNLOADABLE: dict[str, type[Attachment] | type[FormFile] | type[PersonExport]] = {
    "attachment": Attachment,
    "form-file": FormFile,
    "person-export": PersonExport,
}
# `thumbnail-<size>`: the WebP of an attached image at that size (files/thumbnails.py).
THUMBNAIL_KIND = "thumbnail-"

GONE = "This file no longer exists."


def content_disposition(filename: str, inline: bool) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def thumbnail_size(kind: str) -> int | None:
    """The size a `thumbnail-<size>` kind names, if it is one and in range."""
    digits = kind.removeprefix(THUMBNAIL_KIND)
    if kind.startswith(THUMBNAIL_KIND) and digits.isdigit() and check_thumbnail_size(int(digits)):
        return int(digits)
    return None


async def download(request: Request) -> Response:
    """Serve a stored file when the URL's signature is intact and not expired; 403 otherwise."""
    settings = request.app.state.settings
    kind = request.path_params["kind"]
    pk = request.path_params["pk"]
    expires = request.query_params.get("expires", "")
    signature = request.query_params.get("signature", "")
    size = thumbnail_size(kind)
    if (kind not in DOWNLOADABLE and size is None) or not check_signed(settings, kind, pk, expires, signature):
        return JSONResponse({"error": "This link is invalid or has expired."}, status_code=403)
    if size is not None:
        return await _thumbnail(settings, pk, size)
    row = await DOWNLOADABLE[kind].filter(id=pk).first()
    if row is None or row.storage_key is None:
        return JSONResponse({"error": GONE}, status_code=404)
    if isinstance(row, PersonExport) and row.status is not ExportStatus.READY:
        return JSONResponse({"error": GONE}, status_code=404)
    inline = row.content_type in IMAGE_TYPES or row.content_type == "application/pdf"
    # An export holds everything about a person: no cache keeps a copy.
    cache = "no-store" if isinstance(row, PersonExport) else "private, max-age=300"
    return await serve(settings, row.storage_key, row.filename, row.content_type, inline, cache)


async def _thumbnail(settings: Settings, pk: int, size: int) -> Response:
    attachment = await Attachment.filter(id=pk).first()
    if attachment is None or attachment.content_type not in THUMBNAIL_SOURCES:
        return JSONResponse({"error": GONE}, status_code=404)
    try:
        thumbnail = await thumbnail_for(settings, attachment.storage_key, size)
    except (ImageRefused, FileNotFoundError):
        return JSONResponse({"error": "No thumbnail can be made of this file."}, status_code=404)
    stem = attachment.filename.rsplit(".", 1)[0] or "image"
    return await serve(settings, thumbnail.storage_key, f"{stem}-{size}.webp", THUMBNAIL_TYPE, True)


async def serve(
    settings: Settings, key: str, filename: str, content_type: str, inline: bool, cache: str = "private, max-age=300"
) -> Response:
    """The stored file at `key`: from the directory, streamed from S3, or a redirect to S3."""
    store = await asyncio.to_thread(store_for, settings)  # the first call builds the S3 client
    disposition = content_disposition(filename, inline)
    headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": cache,
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    }
    redirect = await asyncio.to_thread(store.presigned_url, key, filename, content_type, disposition)
    if redirect is not None:
        # The store's own short-lived URL (SITEDESK_FILES_REDIRECT): the bytes bypass this process.
        return RedirectResponse(redirect, status_code=307, headers={"Cache-Control": "no-store"})
    path = store.local_path(key)
    if path is not None:
        if not path.exists():
            return JSONResponse({"error": GONE}, status_code=404)
        return FileResponse(path, media_type=content_type, headers=headers)
    try:
        size, chunks = await asyncio.to_thread(store.open, key)
    except FileNotFoundError:
        return JSONResponse({"error": GONE}, status_code=404)
    # Starlette iterates a plain iterator in a worker thread: the store's reads stay off the loop.
    return StreamingResponse(chunks, media_type=content_type, headers={**headers, "Content-Length": str(size)})
