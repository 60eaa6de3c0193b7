"""The download route behind signed URLs."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from files.backends import store_for
from files.signing import check_signed
from files.sniff import IMAGE_TYPES
from models.forms import FormFile
from models.tickets import Attachment

# Signed-URL kinds and the rows they name (each with filename, content_type, storage_key).
DOWNLOADABLE: dict[str, type[Attachment] | type[FormFile]] = {"attachment": Attachment, "form-file": FormFile}


def content_disposition(filename: str, inline: bool) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


async def download(request: Request) -> Response:
    """Serve a stored file when the URL's signature is intact and not expired; 403 otherwise."""
    settings = request.app.state.settings
    kind = request.path_params["kind"]
    pk = request.path_params["pk"]
    expires = request.query_params.get("expires", "")
    signature = request.query_params.get("signature", "")
    if kind not in DOWNLOADABLE or not check_signed(settings, kind, pk, expires, signature):
        return JSONResponse({"error": "This link is invalid or has expired."}, status_code=403)
    attachment = await DOWNLOADABLE[kind].filter(id=pk).first()
    if attachment is None:
        return JSONResponse({"error": "This file no longer exists."}, status_code=404)
    store = await asyncio.to_thread(store_for, settings)  # the first call builds the S3 client
    inline = attachment.content_type in IMAGE_TYPES or attachment.content_type == "application/pdf"
    disposition = content_disposition(attachment.filename, inline)
    headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    }
    redirect = await asyncio.to_thread(
        store.presigned_url, attachment.storage_key, attachment.filename, attachment.content_type, disposition
    )
    if redirect is not None:
        # The store's own short-lived URL (SITEDESK_FILES_REDIRECT): the bytes bypass this process.
        return RedirectResponse(redirect, status_code=307, headers={"Cache-Control": "no-store"})
    path = store.local_path(attachment.storage_key)
    if path is not None:
        if not path.exists():
            return JSONResponse({"error": "This file no longer exists."}, status_code=404)
        return FileResponse(path, media_type=attachment.content_type, headers=headers)
    try:
        size, chunks = await asyncio.to_thread(store.open, attachment.storage_key)
    except FileNotFoundError:
        return JSONResponse({"error": "This file no longer exists."}, status_code=404)
    # Starlette iterates a plain iterator in a worker thread: the store's reads stay off the loop.
    return StreamingResponse(
        chunks, media_type=attachment.content_type, headers={**headers, "Content-Length": str(size)}
    )
