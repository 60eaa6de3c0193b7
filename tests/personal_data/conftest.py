"""Helpers of the data-protection tests: real phone-like photos, uploads, exports polled to READY."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from typing import Any

import httpx
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from core.ids import to_global_id
from models.tickets import Ticket
from tests.conftest import GraphQLClient
from tests.factories import Person

ADD_ATTACHMENT = """mutation($ticketId: ID!, $file: Upload!) {
  addAttachment(ticketId: $ticketId, file: $file) { id filename contentType size downloadUrl thumbnailUrl }
}"""
EXPORT = """mutation($personId: ID!) { exportPersonData(personId: $personId) { id status createdAt downloadUrl } }"""
POLL = """query($id: ID!) { node(id: $id) { ... on PersonExport { id status downloadUrl person { name } } } }"""
ERASE = """mutation($personId: ID!) {
  erasePerson(personId: $personId) {
    person { id name email ... on Employee { isActive } ... on CustomerUser { isActive } }
  }
}"""
GPS = 0x8825
ORIENTATION = 0x0112


def phone_jpeg(width: int = 64, height: int = 32) -> bytes:
    """A JPEG as a phone writes it: GPS position, camera model, and orientation 6 (turn 90° clockwise)."""
    image = Image.new("RGB", (width, height), (30, 120, 200))
    for x, value in enumerate(uuid.uuid4().bytes):
        image.putpixel((x, 0), (value, 255 - value, value))
    exif = Image.Exif()
    exif[0x010F] = "Apple"  # Make
    exif[0x0110] = "iPhone 15 Pro"  # Model
    exif[ORIENTATION] = 6
    exif[GPS] = {1: "N", 2: (52.0, 31.0, 12.34), 3: "E", 4: (13.0, 24.0, 17.5)}
    buffer = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>52,31.2N</exif:GPSLatitude></x:xmpmeta>'
    image.save(buffer, "JPEG", exif=exif, xmp=xmp, quality=90)
    return buffer.getvalue()


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Location", "Markt 1, Musterstadt")
    info.add_itxt("Author", "Alice Anwohner")
    info.add_text("Comment", "GPS 52.52 13.40", zip=True)
    image = Image.new("RGBA", (40, 20), (10, 200, 10, 128))
    image.putpixel((0, 0), tuple(uuid.uuid4().bytes[:4]))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def phone_heic(width: int = 48, height: int = 24) -> bytes:
    """A HEIC as an iPhone sends it, with EXIF (GPS) inside."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    image = Image.new("RGB", (width, height), (220, 180, 40))
    exif = Image.Exif()
    exif[0x0110] = "iPhone 15 Pro"
    exif[GPS] = {1: "N", 2: (48.0, 8.0, 1.0), 3: "E", 4: (11.0, 34.0, 2.0)}
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def metadata_of(data: bytes) -> dict[str, Any]:
    """What a reader finds in stored bytes: format, size, EXIF tags, GPS, XMP and text chunks."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return {
            "format": image.format,
            "size": image.size,
            "exif": dict(exif),
            "gps": dict(exif.get_ifd(GPS)),
            "xmp": image.info.get("xmp"),
            "text": {k: v for k, v in image.info.items() if k not in ("dpi", "icc_profile", "transparency")},
        }


async def upload(gql: GraphQLClient, person: Person, ticket: Ticket, filename: str, data: bytes) -> dict[str, Any]:
    response = await gql.upload(
        ADD_ATTACHMENT,
        {"ticketId": to_global_id("Ticket", ticket.id), "file": None},
        {"variables.file": (filename, data)},
        token=person.token,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def export_zip(client: httpx.AsyncClient, admin: GraphQLClient, person_id: str) -> zipfile.ZipFile:
    """Ask for an export as `admin`, poll `node(id:)` until READY, download the ZIP."""
    started = (await admin.ok(EXPORT, {"personId": person_id}))["exportPersonData"]
    assert started["status"] == "PENDING" and started["downloadUrl"] is None
    for _ in range(200):
        node = (await admin.ok(POLL, {"id": started["id"]}))["node"]
        if node["status"] != "PENDING":
            break
        await asyncio.sleep(0.02)
    assert node["status"] == "READY", node
    response = await client.get(node["downloadUrl"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(response.content))
