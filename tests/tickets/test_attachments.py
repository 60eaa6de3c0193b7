"""Attachments over real HTTP: multipart uploads, limits, CSRF, signed downloads, scoping.

Every test runs on the database `SITEDESK_TEST_DATABASE_URL` names (SQLite by
default). Files are content-addressed and the files directory lives for the
whole session, so each test uploads bytes no other test uploads and compares
the directory before and after instead of expecting it empty. The people,
objects and types are the shared world's: Alice uploads on customer A's a1.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image

from core.ids import to_global_id
from core.settings import Settings
from files.signing import signed_path
from files.storage import storage_key
from models.tickets import Attachment, Ticket, TicketEvent, TicketEventKind
from server.app import create_app
from tests.conftest import GraphQLClient, World
from tests.factories import Person, make_customer_user, make_ticket
from tests.storage import stored_bytes, stored_files

ADD_ATTACHMENT = """mutation($ticketId: ID!, $file: Upload!) {
  addAttachment(ticketId: $ticketId, file: $file) { id filename contentType size downloadUrl }
}"""

CREATE_TICKET = """mutation($input: CreateTicketInput!) {
  createTicket(input: $input) {
    id title
    attachments { id filename contentType size downloadUrl }
  }
}"""

DELETE_ATTACHMENT = """mutation($id: ID!) { deleteAttachment(id: $id) }"""

TICKET_ATTACHMENTS = """query {
  tickets(first: 50) { edges { node { id attachments { id filename } } } }
}"""


# ---------------------------------------------------------------- helpers


def png_bytes() -> bytes:
    """A real, small PNG whose bytes no other test produces (in its pixels: metadata is removed on store)."""
    image = Image.new("RGB", (8, 8), (200, 30, 90))
    for x, value in enumerate(uuid.uuid4().bytes[:8]):
        image.putpixel((x, 0), (value, value, value))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def text_bytes(prefix: str = "Protokoll") -> bytes:
    return f"{prefix} {uuid.uuid4().hex}\nZeile zwei – äöü\n".encode()


def files_on_disk(settings: Settings) -> set[str]:
    """Every stored file and temporary upload, in whichever backend the run uses (tests/storage.py)."""
    return stored_files(settings)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def graphql_body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def ok(response: httpx.Response) -> dict[str, Any]:
    body = graphql_body(response)
    assert not body.get("errors"), body["errors"]
    return body["data"]


def error_code(response: httpx.Response) -> str:
    body = graphql_body(response)
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]


def multipart(
    query: str, variables: dict[str, Any], files: dict[str, tuple[str, bytes]]
) -> tuple[dict[str, str], dict[str, Any]]:
    """The form fields and files of a GraphQL multipart request (as `GraphQLClient.upload` builds them)."""
    paths = list(files)
    data = {
        "operations": json.dumps({"query": query, "variables": variables}),
        "map": json.dumps({str(i): [path] for i, path in enumerate(paths)}),
    }
    parts = {str(i): (files[path][0], files[path][1], "application/octet-stream") for i, path in enumerate(paths)}
    return data, parts


@dataclass
class Tickets:
    on_a1: Ticket  # seen by Alice and her colleague
    on_a2: Ticket  # same customer, on an object Alice is not assigned to
    not_enabled: Ticket  # on a1, of a type not enabled for customer A


@pytest.fixture
async def colleague(world: World, settings: Settings) -> Person:
    """A second customer user on the world's a1, beside Alice."""
    return await make_customer_user(settings, world.a, objects=[world.a1], name="Kollegin Klara")


@pytest.fixture
async def tickets(world: World) -> Tickets:
    return Tickets(
        await make_ticket(world.a1, world.defect, "Fenster verschmiert", by=world.staff),
        await make_ticket(world.a2, world.defect, "Hoftor klemmt", by=world.staff),
        await make_ticket(world.a1, world.damage, "Schlüssel fehlt", by=world.staff),
    )


async def add_attachment(
    gql: GraphQLClient, person: Person, ticket: Ticket, filename: str, data: bytes
) -> httpx.Response:
    return await gql.upload(
        ADD_ATTACHMENT,
        {"ticketId": to_global_id("Ticket", ticket.id), "file": None},
        {"variables.file": (filename, data)},
        token=person.token,
    )


# ---------------------------------------------------------------- adding


async def test_customer_user_uploads_png_and_type_comes_from_the_bytes(gql, world, tickets, settings):
    data = png_bytes()
    response = await add_attachment(gql, world.alice, tickets.on_a1, "rechnung.pdf", data)
    attachment = ok(response)["addAttachment"]
    assert attachment["contentType"] == "image/png"
    assert attachment["filename"] == "rechnung.pdf"
    assert attachment["size"] == len(data)

    row = await Attachment.get(ticket_id=tickets.on_a1.id)
    assert row.sha256 == sha(data)
    assert row.uploaded_by_id == world.alice.account.id
    assert row.content_type == "image/png"
    assert stored_bytes(settings, storage_key(sha(data))) == data
    events = await TicketEvent.filter(ticket_id=tickets.on_a1.id, kind=TicketEventKind.ATTACHMENT_ADDED)
    assert [e.to_value for e in events] == ["rechnung.pdf"]


async def test_path_in_filename_is_only_a_display_name(gql, world, tickets, settings):
    base = settings.files_dir.parent
    before = files_on_disk(settings)
    before_local = {p for p in base.rglob("*") if p.is_file() and not p.name.startswith("test.db")}
    data = text_bytes("root:x:0:0")
    response = await add_attachment(gql, world.alice, tickets.on_a1, "../../etc/passwd", data)
    attachment = ok(response)["addAttachment"]
    assert attachment["filename"] == "passwd"
    assert attachment["contentType"] == "text/plain"

    assert files_on_disk(settings) - before == {storage_key(sha(data))}
    assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}", storage_key(sha(data)))
    new_local = {p for p in base.rglob("*") if p.is_file() and not p.name.startswith("test.db")} - before_local
    # In the directory backend the one new file lies inside it; in S3 nothing new is local.
    assert all(p.resolve().is_relative_to(settings.files_dir.resolve()) for p in new_local)
    assert len(new_local) == (0 if settings.files_url else 1)
    assert not (base / "etc").exists()
    assert not (base.parent / "etc" / "passwd").exists()
    assert (await Attachment.get(ticket_id=tickets.on_a1.id)).filename == "passwd"


@pytest.mark.parametrize(
    "name, shown",
    [
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/etc/shadow", "shadow"),
        ("...", "file"),
        ("re<1>|:*?port.txt", "re1port.txt"),
        ("  .hidden  ", "hidden"),
    ],
)
async def test_odd_filenames_are_cleaned(gql, world, tickets, name, shown):
    response = await add_attachment(gql, world.alice, tickets.on_a1, name, text_bytes())
    assert ok(response)["addAttachment"]["filename"] == shown


async def test_create_ticket_with_attachments(gql, world, colleague, settings):
    first, second = png_bytes(), text_bytes()
    variables = {
        "input": {
            "objectId": to_global_id("SiteObject", world.a1.id),
            "ticketTypeId": to_global_id("TicketType", world.defect.id),
            "title": "Graffiti am Eingang",
            "attachments": [None, None],
        }
    }
    response = await gql.upload(
        CREATE_TICKET,
        variables,
        {
            "variables.input.attachments.0": ("eingang.png", first),
            "variables.input.attachments.1": ("notiz.txt", second),
        },
        token=world.alice.token,
    )
    ticket = ok(response)["createTicket"]
    assert ticket["title"] == "Graffiti am Eingang"
    assert [(a["filename"], a["contentType"], a["size"]) for a in ticket["attachments"]] == [
        ("eingang.png", "image/png", len(first)),
        ("notiz.txt", "text/plain", len(second)),
    ]
    for data in (first, second):
        assert stored_bytes(settings, storage_key(sha(data))) == data

    # The colleague sees the ticket and both files.
    listed = ok(
        await gql.http.post(
            "/graphql", json={"query": TICKET_ATTACHMENTS}, headers={"Authorization": f"Bearer {colleague.token}"}
        )
    )
    by_id = {e["node"]["id"]: e["node"] for e in listed["tickets"]["edges"]}
    assert [a["filename"] for a in by_id[ticket["id"]]["attachments"]] == ["eingang.png", "notiz.txt"]


async def test_create_ticket_outside_scope_stores_nothing(gql, world, settings):
    before = files_on_disk(settings)
    tickets_before = await Ticket.all().count()
    variables = {
        "input": {
            "objectId": to_global_id("SiteObject", world.a2.id),
            "ticketTypeId": to_global_id("TicketType", world.defect.id),
            "title": "Nicht meins",
            "attachments": [None],
        }
    }
    response = await gql.upload(
        CREATE_TICKET, variables, {"variables.input.attachments.0": ("a.png", png_bytes())}, token=world.alice.token
    )
    assert error_code(response) == "NOT_FOUND"
    assert await Ticket.all().count() == tickets_before
    assert await Attachment.all().count() == 0
    assert files_on_disk(settings) == before


# ---------------------------------------------------------------- limits


@pytest.fixture
async def small_limit_client(settings: Settings) -> AsyncIterator[tuple[Settings, GraphQLClient]]:
    small = dataclasses.replace(settings, max_upload_mb=1)
    app = create_app(small, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test") as http:
        yield small, GraphQLClient(http)


def big(size: int) -> bytes:
    """`size` bytes of text, unique to the call."""
    return (uuid.uuid4().hex * (size // 32 + 1)).encode()[:size]


async def test_upload_over_the_body_limit_is_refused_with_413(small_limit_client, world, tickets):
    small, gql = small_limit_client
    before = files_on_disk(small)
    response = await add_attachment(gql, world.alice, tickets.on_a1, "big.bin", big(3_500_000))
    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await Attachment.all().count() == 0
    assert files_on_disk(small) == before


async def test_streamed_upload_over_the_body_limit_is_refused_with_413(small_limit_client, world, tickets):
    """No Content-Length (chunked): the limit is enforced while the bytes arrive."""
    small, gql = small_limit_client
    before = files_on_disk(small)
    data, parts = multipart(
        ADD_ATTACHMENT,
        {"ticketId": to_global_id("Ticket", tickets.on_a1.id), "file": None},
        {"variables.file": ("big.bin", big(3_500_000))},
    )
    request = gql.http.build_request(
        "POST",
        "/graphql",
        data=data,
        files=parts,
        headers={"Apollo-Require-Preflight": "true", "Authorization": f"Bearer {world.alice.token}"},
    )
    body = request.read()
    content_type = request.headers["content-type"]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await gql.http.post(
        "/graphql",
        content=chunks(),
        headers={
            "Content-Type": content_type,
            "Apollo-Require-Preflight": "true",
            "Authorization": f"Bearer {world.alice.token}",
        },
    )
    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await Attachment.all().count() == 0
    assert files_on_disk(small) == before


async def test_file_over_the_upload_limit_but_under_the_body_limit_is_bad_input(small_limit_client, world, tickets):
    """1.5 MB passes the 2 MB + 1 MB body cap, but the file itself is over 1 MB."""
    small, gql = small_limit_client
    before = files_on_disk(small)
    response = await add_attachment(gql, world.alice, tickets.on_a1, "big.bin", big(1_500_000))
    assert error_code(response) == "BAD_USER_INPUT"
    assert await Attachment.all().count() == 0
    assert files_on_disk(small) == before
    assert not [name for name in files_on_disk(small) if name.startswith(".upload-")]


async def test_second_file_over_the_limit_discards_the_first(small_limit_client, world):
    small, gql = small_limit_client
    before = files_on_disk(small)
    tickets_before = await Ticket.all().count()
    variables = {
        "input": {
            "objectId": to_global_id("SiteObject", world.a1.id),
            "ticketTypeId": to_global_id("TicketType", world.defect.id),
            "title": "Zu groß",
            "attachments": [None, None],
        }
    }
    response = await gql.upload(
        CREATE_TICKET,
        variables,
        {
            "variables.input.attachments.0": ("small.png", png_bytes()),
            "variables.input.attachments.1": ("big.bin", big(1_500_000)),
        },
        token=world.alice.token,
    )
    assert error_code(response) == "BAD_USER_INPUT"
    assert await Ticket.all().count() == tickets_before
    assert await Attachment.all().count() == 0
    assert files_on_disk(small) == before


async def test_too_many_files_are_refused(gql, world, settings):
    assert settings.max_files_per_request == 10
    before = files_on_disk(settings)
    tickets_before = await Ticket.all().count()
    count = settings.max_files_per_request + 1
    variables = {
        "input": {
            "objectId": to_global_id("SiteObject", world.a1.id),
            "ticketTypeId": to_global_id("TicketType", world.defect.id),
            "title": "Viele Fotos",
            "attachments": [None] * count,
        }
    }
    files = {f"variables.input.attachments.{i}": (f"foto{i}.txt", text_bytes()) for i in range(count)}
    response = await gql.upload(CREATE_TICKET, variables, files, token=world.alice.token)
    assert response.status_code == 400, response.text
    assert "Too many files" in response.text
    assert await Ticket.all().count() == tickets_before
    assert await Attachment.all().count() == 0
    assert files_on_disk(settings) == before


async def test_too_many_files_error_is_a_json_body(gql, world, settings):
    count = settings.max_files_per_request + 1
    variables = {
        "input": {
            "objectId": to_global_id("SiteObject", world.a1.id),
            "ticketTypeId": to_global_id("TicketType", world.defect.id),
            "title": "Viele Fotos",
            "attachments": [None] * count,
        }
    }
    files = {f"variables.input.attachments.{i}": (f"foto{i}.txt", text_bytes()) for i in range(count)}
    response = await gql.upload(CREATE_TICKET, variables, files, token=world.alice.token)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_exactly_the_maximum_number_of_files_is_accepted(gql, world, settings):
    count = settings.max_files_per_request
    variables = {
        "input": {
            "objectId": to_global_id("SiteObject", world.a1.id),
            "ticketTypeId": to_global_id("TicketType", world.defect.id),
            "title": "Zehn Fotos",
            "attachments": [None] * count,
        }
    }
    files = {f"variables.input.attachments.{i}": (f"foto{i}.txt", text_bytes()) for i in range(count)}
    response = await gql.upload(CREATE_TICKET, variables, files, token=world.alice.token)
    assert len(ok(response)["createTicket"]["attachments"]) == count


async def test_multipart_without_preflight_header_is_refused(client, world, tickets, settings):
    before = files_on_disk(settings)
    data, parts = multipart(
        ADD_ATTACHMENT,
        {"ticketId": to_global_id("Ticket", tickets.on_a1.id), "file": None},
        {"variables.file": ("x.png", png_bytes())},
    )
    response = await client.post(
        "/graphql", data=data, files=parts, headers={"Authorization": f"Bearer {world.alice.token}"}
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "Apollo-Require-Preflight" in body["errors"][0]["message"]
    assert await Attachment.all().count() == 0
    assert files_on_disk(settings) == before


# ---------------------------------------------------------------- downloading


async def uploaded(
    gql: GraphQLClient, world: World, tickets: Tickets, filename: str, data: bytes, person: Person | None = None
) -> dict[str, Any]:
    response = await add_attachment(gql, person or world.alice, tickets.on_a1, filename, data)
    return ok(response)["addAttachment"]


def pk_of(url: str) -> int:
    return int(re.match(r"^https://sitedesk\.test/files/attachment/(\d+)\?", url).group(1))


async def test_download_png_inline_without_authorization(client, gql, world, tickets):
    data = png_bytes()
    attachment = await uploaded(gql, world, tickets, "foto.pdf", data)
    url = attachment["downloadUrl"]
    assert url.startswith("https://sitedesk.test/files/attachment/")  # absolute, from SITEDESK_PUBLIC_URL
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.content == data
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("inline;")
    assert 'filename="foto.pdf"' in response.headers["content-disposition"]


@pytest.mark.parametrize(
    "data, content_type",
    [
        (None, "text/plain"),
        (b"\x00\x01\x02binary" + uuid.uuid4().bytes, "application/octet-stream"),
    ],
)
async def test_download_non_images_as_attachment(client, gql, world, tickets, data, content_type):
    data = data or text_bytes()
    attachment = await uploaded(gql, world, tickets, "bericht.html", data)
    assert attachment["contentType"] == content_type
    response = await client.get(attachment["downloadUrl"])
    assert response.status_code == 200, response.text
    assert response.content == data
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_download_with_unicode_filename(client, gql, world, tickets):
    attachment = await uploaded(gql, world, tickets, "Prüfbericht „Mai“.txt", text_bytes())
    response = await client.get(attachment["downloadUrl"])
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Pr%C3%BCfbericht%20%E2%80%9EMai%E2%80%9C.txt" in disposition


async def test_tampered_signature_is_refused(client, gql, world, tickets):
    url = (await uploaded(gql, world, tickets, "a.png", png_bytes()))["downloadUrl"]
    signature = re.search(r"signature=([^&]+)", url).group(1)
    flipped = "A" if signature[-1] != "A" else "B"
    for bad in (
        url.replace(signature, signature[:-1] + flipped),
        url.replace(f"signature={signature}", "signature="),
        re.sub(r"&signature=[^&]+", "", url),
    ):
        response = await client.get(bad)
        assert response.status_code == 403, (bad, response.text)


async def test_signature_does_not_carry_over_to_another_id(client, gql, world, tickets):
    first = await uploaded(gql, world, tickets, "a.png", png_bytes())
    second = await uploaded(gql, world, tickets, "b.png", png_bytes())
    url = first["downloadUrl"]
    other = url.replace(f"/attachment/{pk_of(url)}?", f"/attachment/{pk_of(second['downloadUrl'])}?")
    assert other != url
    assert (await client.get(other)).status_code == 403
    assert (await client.get(url)).status_code == 200


async def test_changed_expiry_is_refused(client, gql, world, tickets):
    url = (await uploaded(gql, world, tickets, "a.png", png_bytes()))["downloadUrl"]
    expires = int(re.search(r"expires=(\d+)", url).group(1))
    response = await client.get(url.replace(f"expires={expires}", f"expires={expires + 3600}"))
    assert response.status_code == 403


async def test_expired_url_is_refused(client, gql, world, tickets, settings):
    attachment = await uploaded(gql, world, tickets, "a.png", png_bytes())
    pk = pk_of(attachment["downloadUrl"])
    past = signed_path(settings, "attachment", pk, now=time.time() - settings.download_url_minutes * 60 - 5)
    assert (await client.get(past)).status_code == 403
    fresh = signed_path(settings, "attachment", pk)
    assert (await client.get(fresh)).status_code == 200


async def test_url_expires_after_the_configured_minutes(client, gql, world, tickets, settings, monkeypatch):
    url = (await uploaded(gql, world, tickets, "a.png", png_bytes()))["downloadUrl"]
    assert (await client.get(url)).status_code == 200
    later = time.time() + settings.download_url_minutes * 60 + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert (await client.get(url)).status_code == 403


async def test_download_of_deleted_attachment_is_gone(client, gql, world, tickets):
    attachment = await uploaded(gql, world, tickets, "a.png", png_bytes())
    ok(
        await gql.http.post(
            "/graphql",
            json={"query": DELETE_ATTACHMENT, "variables": {"id": attachment["id"]}},
            headers={"Authorization": f"Bearer {world.alice.token}"},
        )
    )
    assert (await client.get(attachment["downloadUrl"])).status_code == 404


# ---------------------------------------------------------------- scope and deleting


@pytest.mark.parametrize("which", ["on_a2", "not_enabled"])
async def test_customer_user_cannot_attach_outside_their_scope(gql, world, tickets, settings, which):
    before = files_on_disk(settings)
    response = await add_attachment(gql, world.alice, getattr(tickets, which), "x.png", png_bytes())
    assert error_code(response) == "NOT_FOUND"
    assert await Attachment.all().count() == 0
    assert files_on_disk(settings) == before


async def test_anonymous_cannot_attach(gql, world, tickets, settings):
    before = files_on_disk(settings)
    response = await gql.upload(
        ADD_ATTACHMENT,
        {"ticketId": to_global_id("Ticket", tickets.on_a1.id), "file": None},
        {"variables.file": ("x.png", png_bytes())},
    )
    assert error_code(response) == "UNAUTHENTICATED"
    assert await Attachment.all().count() == 0
    assert files_on_disk(settings) == before


async def delete(gql: GraphQLClient, person: Person, attachment_id: str) -> httpx.Response:
    return await gql.http.post(
        "/graphql",
        json={"query": DELETE_ATTACHMENT, "variables": {"id": attachment_id}},
        headers={"Authorization": f"Bearer {person.token}"},
    )


async def test_customer_user_cannot_delete_another_users_attachment(gql, world, tickets, colleague, settings):
    data = png_bytes()
    attachment = await uploaded(gql, world, tickets, "a.png", data, person=colleague)
    assert error_code(await delete(gql, world.alice, attachment["id"])) == "FORBIDDEN"
    assert await Attachment.all().count() == 1
    assert stored_bytes(settings, storage_key(sha(data))) is not None


async def test_customer_user_deletes_own_attachment(gql, world, tickets, settings):
    data = png_bytes()
    attachment = await uploaded(gql, world, tickets, "a.png", data)
    assert ok(await delete(gql, world.alice, attachment["id"]))["deleteAttachment"] is True
    assert await Attachment.all().count() == 0
    assert stored_bytes(settings, storage_key(sha(data))) is None


async def test_employee_deletes_attachment_and_its_file(gql, world, tickets, settings):
    data = png_bytes()
    attachment = await uploaded(gql, world, tickets, "a.png", data)
    key = storage_key(sha(data))
    assert stored_bytes(settings, key) == data
    assert ok(await delete(gql, world.staff, attachment["id"]))["deleteAttachment"] is True
    assert await Attachment.all().count() == 0
    assert stored_bytes(settings, key) is None
    events = await TicketEvent.filter(ticket_id=tickets.on_a1.id, kind=TicketEventKind.ATTACHMENT_REMOVED)
    assert [e.from_value for e in events] == ["a.png"]


async def test_file_shared_by_two_attachments_stays_until_the_last_is_deleted(gql, world, tickets, colleague, settings):
    data = png_bytes()
    first = await uploaded(gql, world, tickets, "a.png", data)
    second = await uploaded(gql, world, tickets, "b.png", data, person=colleague)
    key = storage_key(sha(data))
    assert ok(await delete(gql, world.staff, first["id"]))["deleteAttachment"] is True
    assert stored_bytes(settings, key) == data
    response = await gql.http.get(second["downloadUrl"])
    assert response.status_code == 200 and response.content == data
    assert ok(await delete(gql, world.staff, second["id"]))["deleteAttachment"] is True
    assert stored_bytes(settings, key) is None


async def test_customer_user_cannot_delete_attachment_on_ticket_outside_scope(gql, world, tickets, settings):
    staff = await uploaded(gql, world, tickets, "intern.png", png_bytes(), person=world.staff)
    # Move it onto a ticket the customer user cannot see.
    await Attachment.filter(id=pk_of(staff["downloadUrl"])).update(ticket_id=tickets.not_enabled.id)
    assert error_code(await delete(gql, world.alice, staff["id"])) == "NOT_FOUND"
    assert await Attachment.all().count() == 1


async def test_a_string_instead_of_a_file_is_bad_input(gql, world, tickets):
    response = await gql.http.post(
        "/graphql",
        json={
            "query": ADD_ATTACHMENT,
            "variables": {"ticketId": to_global_id("Ticket", tickets.on_a1.id), "file": "not-a-file"},
        },
        headers={"Authorization": f"Bearer {world.alice.token}"},
    )
    assert error_code(response) == "BAD_USER_INPUT"
    assert await Attachment.all().count() == 0
