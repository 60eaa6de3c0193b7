"""Thumbnails of attached images: made on first request per image and size, then kept.

The WebP is stored in the files backend under its own content-addressed key and remembered in a
`Thumbnail` row (per source key and size), so every process serves the one made first. Two
processes asked at once may both render it; the row's unique constraint keeps one, and the other
rendering is the same bytes at the same key or is removed as unreferenced by `sitedesk files gc`.
"""

from __future__ import annotations

import asyncio
import io

from core.errors import BadUserInput
from core.settings import Settings
from files.backends import readable, store_for
from files.images import THUMBNAIL_MAX, THUMBNAIL_MIN, THUMBNAIL_SOURCES, check_thumbnail_size, make_thumbnail
from files.signing import signed_url
from models.files import Thumbnail

THUMBNAIL_DESCRIPTION = (
    "Absolute signed URL of a WebP thumbnail fitting size×size (aspect kept, its longest side = size; "
    "never upscaled: a smaller image keeps its size), made once per size and kept; valid for a few "
    "minutes, no Authorization header needed. Null for files that are not images."
)
SIZE_DESCRIPTION = f"Pixels, {THUMBNAIL_MIN} to {THUMBNAIL_MAX} (else BAD_USER_INPUT)."


def thumbnail_link(settings: Settings, attachment_id: int, content_type: str, size: int) -> str | None:
    """`Attachment.thumbnailUrl`: the signed URL (`/files/thumbnail-<size>/<id>`), None for non-images;
    a size outside 64..1024 is `BAD_USER_INPUT` (field "size")."""
    if not check_thumbnail_size(size):
        raise BadUserInput(f"The size must be between {THUMBNAIL_MIN} and {THUMBNAIL_MAX}.", field="size")
    if content_type not in THUMBNAIL_SOURCES:
        return None
    return signed_url(settings, f"thumbnail-{size}", attachment_id)


async def thumbnail_for(settings: Settings, source_key: str, size: int) -> Thumbnail:
    """The thumbnail row of the image stored at `source_key` at `size`, rendering it if needed.

    Raises `files.images.ImageRefused` when the stored image cannot be decoded."""
    found = await Thumbnail.filter(source_key=source_key, size=size).first()
    if found is not None:
        return found
    store = await asyncio.to_thread(store_for, settings)
    source = await asyncio.to_thread(readable, store, source_key)
    rendered = await asyncio.to_thread(make_thumbnail, source, size, settings.max_image_pixels)
    stored = await asyncio.to_thread(store.store, io.BytesIO(rendered.data), len(rendered.data) + 1)
    await Thumbnail.bulk_create(
        [
            Thumbnail(
                source_key=source_key,
                size=size,
                storage_key=stored.storage_key,
                width=rendered.width,
                height=rendered.height,
            )
        ],
        ignore_conflicts=True,
    )
    return await Thumbnail.get(source_key=source_key, size=size)
