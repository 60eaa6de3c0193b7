"""Photos lose their metadata on the way in (after the orientation is applied); HEIC is stored as JPEG."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from models.files import FileClaim
from models.tickets import Attachment
from tests.factories import make_ticket
from tests.personal_data.conftest import (
    GPS,
    ORIENTATION,
    metadata_of,
    phone_heic,
    phone_jpeg,
    png_with_text,
    upload,
)
from tests.storage import stored_bytes, stored_files


@pytest.fixture
async def ticket(world):
    return await make_ticket(world.a1, world.defect, "Schaden am Fenster", by=world.alice)


async def _stored(settings, body) -> tuple[dict, bytes]:
    assert not body.get("errors"), body["errors"]
    attachment = body["data"]["addAttachment"]
    row = await Attachment.get(filename=attachment["filename"])
    data = stored_bytes(settings, row.storage_key)
    assert data is not None and len(data) == attachment["size"] == row.size
    return attachment, data


async def test_a_phone_jpeg_is_stored_turned_upright_without_gps_exif_or_xmp(gql, world, ticket, settings):
    original = phone_jpeg(64, 32)
    before = metadata_of(original)
    assert before["gps"] and before["exif"][ORIENTATION] == 6 and before["xmp"]
    attachment, data = await _stored(settings, await upload(gql, world.alice, ticket, "IMG_0001.JPG", original))
    after = metadata_of(data)
    assert attachment["contentType"] == "image/jpeg" and after["format"] == "JPEG"
    assert after["size"] == (32, 64)  # orientation 6 applied to the pixels
    assert after["exif"] == {} and after["gps"] == {} and after["xmp"] is None
    assert b"iPhone" not in data and b"GPS" not in data and b"xmpmeta" not in data


async def test_a_png_loses_its_text_chunks_and_keeps_its_pixels(gql, world, ticket, settings):
    original = png_with_text()
    assert {"Location", "Author", "Comment"} <= set(metadata_of(original)["text"])
    attachment, data = await _stored(settings, await upload(gql, world.alice, ticket, "plan.png", original))
    assert attachment["contentType"] == "image/png"
    assert metadata_of(data)["text"] == {}
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
        assert chunk not in data
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(data)) as b:
        assert a.mode == b.mode == "RGBA" and a.tobytes() == b.tobytes()


async def test_a_webp_loses_exif_and_xmp(gql, world, ticket, settings):
    exif = Image.Exif()
    exif[GPS] = {1: "N", 2: (52.0, 1.0, 2.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (9, 9, 9)).save(buffer, "WEBP", exif=exif, xmp=b"<x:xmpmeta>GPS</x:xmpmeta>")
    assert metadata_of(buffer.getvalue())["gps"]
    attachment, data = await _stored(settings, await upload(gql, world.alice, ticket, "a.webp", buffer.getvalue()))
    assert attachment["contentType"] == "image/webp"
    assert metadata_of(data)["gps"] == {} and b"EXIF" not in data and b"XMP " not in data


async def test_an_iphone_heic_is_stored_as_jpeg_without_its_exif(gql, world, ticket, settings):
    original = phone_heic(48, 24)
    assert metadata_of(original)["format"] == "HEIF" and metadata_of(original)["gps"]
    attachment, data = await _stored(settings, await upload(gql, world.alice, ticket, "IMG_4711.HEIC", original))
    assert attachment["contentType"] == "image/jpeg" and attachment["filename"] == "IMG_4711.jpg"
    after = metadata_of(data)
    assert after["format"] == "JPEG" and after["size"] == (48, 24) and after["gps"] == {} and after["exif"] == {}
    assert b"iPhone" not in data


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header promises width×height pixels (a decompression bomb's first bytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + b"\x00" * 64


@pytest.mark.parametrize(
    "name, data",
    [
        ("bomb.png", _png_header_only(40000, 40000)),
        ("kaputt.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200),
        ("kaputt.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
    ],
)
async def test_an_image_that_cannot_be_decoded_is_refused_and_nothing_is_stored(
    gql, world, ticket, settings, name, data
):
    before = stored_files(settings)
    body = await upload(gql, world.alice, ticket, name, data)
    error = body["errors"][0]["extensions"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "file")
    assert await Attachment.all().count() == 0
    assert stored_files(settings) == before
    assert await FileClaim.filter(in_flight__gt=0).count() == 0


async def test_other_files_are_stored_as_sent(gql, world, ticket, settings):
    text = b"Protokoll ohne Bild \xc3\xa4\n"
    attachment, data = await _stored(settings, await upload(gql, world.alice, ticket, "notiz.txt", text))
    assert data == text and attachment["contentType"] == "text/plain" and attachment["thumbnailUrl"] is None
