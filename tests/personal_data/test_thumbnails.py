"""Attachment.thumbnailUrl: a signed WebP fitting size×size, made once per size, null for non-images."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from models.files import Thumbnail
from tests.factories import make_attachment, make_ticket
from tests.personal_data.conftest import phone_jpeg, upload
from tests.storage import stored_files

THUMBS = """query($id: ID!) { node(id: $id) { ... on Attachment {
  small: thumbnailUrl(size: 64) default: thumbnailUrl large: thumbnailUrl(size: 1024) } } }"""
SIZED = """query($id: ID!, $size: Int!) { node(id: $id) { ... on Attachment { thumbnailUrl(size: $size) } } }"""


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
async def ticket(world):
    return await make_ticket(world.a1, world.defect, "Fotos", by=world.alice)


async def _fetch(client, url: str) -> Image.Image:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "WEBP"
    return image


async def test_thumbnails_fit_the_size_keep_the_aspect_and_never_upscale(client, gql, world, ticket):
    body = await upload(gql, world.alice, ticket, "wand.jpg", jpeg(600, 300))
    attachment = body["data"]["addAttachment"]
    urls = (await world.as_(world.alice).ok(THUMBS, {"id": attachment["id"]}))["node"]
    assert (await _fetch(client, urls["small"])).size == (64, 32)
    assert (await _fetch(client, urls["default"])).size == (256, 128)
    assert (await _fetch(client, urls["large"])).size == (600, 300)  # never upscaled


async def test_a_thumbnail_is_made_once_per_size_and_kept_in_the_files_backend(client, gql, world, ticket, settings):
    body = await upload(gql, world.alice, ticket, "IMG.JPG", phone_jpeg(80, 40))
    url = body["data"]["addAttachment"]["thumbnailUrl"]
    before = stored_files(settings)
    first = (await client.get(url)).content
    [row] = await Thumbnail.all()
    assert stored_files(settings) == before | {row.storage_key}
    again = await world.as_(world.bob).ok(SIZED, {"id": body["data"]["addAttachment"]["id"], "size": 256})
    assert again["node"] is None  # Bob does not see the ticket: no URL for him
    assert (await client.get(url)).content == first
    assert await Thumbnail.all().count() == 1
    assert Image.open(io.BytesIO(first)).size == (40, 80)  # upright, from the cleaned photo


@pytest.mark.parametrize("size", [63, 1025, 0, -1])
async def test_a_size_outside_64_to_1024_is_bad_input(gql, world, ticket, size):
    body = await upload(gql, world.alice, ticket, "a.jpg", jpeg(10, 10))
    answer = await world.as_(world.alice)(SIZED, {"id": body["data"]["addAttachment"]["id"], "size": size})
    error = answer["errors"][0]["extensions"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "size")


async def test_no_thumbnail_of_files_that_are_not_images(gql, world, ticket, settings):
    row = await make_attachment(settings, ticket, world.alice, "liste.txt", b"keine Bilder hier")
    from core.ids import to_global_id

    answer = await world.as_(world.alice).ok(SIZED, {"id": to_global_id("Attachment", row.id), "size": 128})
    assert answer["node"]["thumbnailUrl"] is None


async def test_a_tampered_or_foreign_thumbnail_link_is_refused(client, gql, world, ticket):
    body = await upload(gql, world.alice, ticket, "a.jpg", jpeg(100, 100))
    url = body["data"]["addAttachment"]["thumbnailUrl"]
    assert (await client.get(url.replace("thumbnail-256", "thumbnail-512"))).status_code == 403
    assert (await client.get(url.replace("signature=", "signature=0"))).status_code == 403
