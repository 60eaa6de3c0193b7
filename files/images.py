"""Photos as they are stored and shown: metadata removed on the way in, thumbnails on the way out.

Phones write where and with what a photo was taken into it (EXIF GPS, XMP, IPTC) and PNG tools
add text chunks. `clean_image` re-encodes JPEG, PNG, WebP and HEIC/HEIF uploads without any of
that, after turning the pixels the way the EXIF orientation says (the tag itself goes with the
rest), and stores HEIC/HEIF as JPEG, which every browser shows. `make_thumbnail` renders the WebP
behind `Attachment.thumbnailUrl`. Other files are stored as sent.

Decoding is bounded: an image whose header promises more than `SITEDESK_MAX_IMAGE_PIXELS` pixels
is refused before its pixels are read, and so is one Pillow cannot decode. Everything here is
blocking CPU work: callers on the event loop use `asyncio.to_thread`.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps

# Stored after cleaning; GIF (no location metadata of its own) and everything else as sent.
CLEANED_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}
HEIF_TYPES = {"image/heic", "image/heif"}
# The image types a thumbnail is made of.
THUMBNAIL_SOURCES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
THUMBNAIL_MIN = 64
THUMBNAIL_MAX = 1024
THUMBNAIL_TYPE = "image/webp"
JPEG_QUALITY = 90
WEBP_QUALITY = 85
THUMBNAIL_QUALITY = 80
# What may stay of an image's `info`: how it is drawn, never who or where.
KEPT_INFO = ("transparency", "icc_profile", "dpi", "gamma", "duration", "loop", "background")

_heif_registered = False


class ImageRefused(Exception):
    """The bytes claim to be an image but cannot be decoded within the limits."""


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def _open(source: str | Path | BinaryIO, max_pixels: int) -> Image.Image:
    """Open an image and check its pixel count before anything is decoded."""
    _register_heif()
    # Pillow's own bomb check (a warning above the limit, an error above twice it) backs ours up.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        image = Image.open(source)
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise ImageRefused(str(exc)) from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageRefused(f"{width}×{height} pixels is more than the {max_pixels} allowed")
    return image


def _metadata_free(image: Image.Image) -> Image.Image:
    """The pixels turned as the EXIF orientation says, with no metadata left in `info`."""
    turned = ImageOps.exif_transpose(image) or image
    turned.info = {key: value for key, value in image.info.items() if key in KEPT_INFO}
    return turned


@dataclass(frozen=True)
class Cleaned:
    path: str  # a temporary file beside storage holding the cleaned bytes
    content_type: str


def clean_image(path: str, content_type: str, spool_dir: Path, max_pixels: int) -> Cleaned | None:
    """The image at `path` re-encoded without metadata (None: not a type that is cleaned).

    Raises `ImageRefused` when it cannot be decoded; blocking.
    """
    if content_type not in CLEANED_TYPES:
        return None
    with _open(path, max_pixels) as image:
        frames = getattr(image, "n_frames", 1)
        try:
            if content_type in HEIF_TYPES or image.format == "JPEG":
                target, options = "JPEG", {"quality": JPEG_QUALITY, "optimize": True}
                clean = _metadata_free(image)
                if clean.mode not in ("RGB", "L", "CMYK"):
                    clean = clean.convert("RGB")
            elif frames > 1:
                # Animated PNG or WebP: the frames as they are (no orientation tag applies).
                target, options = image.format or "PNG", {"save_all": True}
                clean = image
                clean.info = {key: value for key, value in image.info.items() if key in KEPT_INFO}
            else:
                target = "WEBP" if image.format == "WEBP" else "PNG"
                options = {"quality": WEBP_QUALITY} if target == "WEBP" else {}
                clean = _metadata_free(image)
            if "icc_profile" in clean.info:
                options["icc_profile"] = clean.info["icc_profile"]
            handle = tempfile.NamedTemporaryFile(dir=spool_dir, delete=False, prefix=".upload-")
            try:
                with handle:
                    clean.save(handle, target, **options)
                    handle.flush()
                    os.fsync(handle.fileno())
            except BaseException:
                os.unlink(handle.name)
                raise
        except ImageRefused:
            raise
        except (Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageRefused(str(exc)) from None
    return Cleaned(handle.name, {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[target])


def check_thumbnail_size(size: int) -> bool:
    return THUMBNAIL_MIN <= size <= THUMBNAIL_MAX


@dataclass(frozen=True)
class Rendered:
    data: bytes
    width: int
    height: int


def make_thumbnail(source: Path | bytes, size: int, max_pixels: int) -> Rendered:
    """A WebP fitting size×size, aspect kept, never larger than the original; blocking."""
    opened: str | Path | BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source
    with _open(opened, max_pixels) as image:
        try:
            image.draft("RGB", (size, size))  # JPEG: decode at a fraction of the size when it can
            turned = ImageOps.exif_transpose(image) or image
            if turned.mode not in ("RGB", "RGBA"):
                has_alpha = turned.mode in ("LA", "PA") or "transparency" in turned.info
                turned = turned.convert("RGBA" if has_alpha else "RGB")
            turned.thumbnail((size, size), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            turned.save(out, "WEBP", quality=THUMBNAIL_QUALITY)
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageRefused(str(exc)) from None
        return Rendered(out.getvalue(), turned.width, turned.height)
