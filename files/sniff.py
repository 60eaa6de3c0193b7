"""Content types from the bytes themselves, never from the client's claim."""

from __future__ import annotations

SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
]
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
# ISO base media brands of HEIF photos (iPhones write "heic"); stored as JPEG (files/images.py).
HEIF_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic",
    b"hevx": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
}


def sniff_content_type(head: bytes) -> str:
    """The content type the first bytes of a file show (`application/octet-stream` if unknown)."""
    for signature, offset, content_type in SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIF_BRANDS[head[8:12]]
    if head and _is_text(head):
        return "text/plain"
    return "application/octet-stream"


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True
