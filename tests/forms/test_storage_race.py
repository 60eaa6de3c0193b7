"""Two requests storing the same bytes at once: a failing one's clean-up never takes the other's file.

Storage is content-addressed, so the same bytes share one file. Each test holds one request
right after it stored its upload (an event, no sleeping), runs the other to its end, then lets
the first go on: the interleaving is the same on every run.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

import resolvers.forms.submit
import resolvers.tickets.write
from files.storage import storage_key
from tests.forms.conftest import SUBMIT, create_template, download, errors_of, submit_input, upload_submit
from tests.storage import stored_bytes
from tests.tickets.test_attachments import sha

CREATE_TICKET = """mutation($input: CreateTicketInput!) {
  createTicket(input: $input) { id attachments { filename downloadUrl } } }"""


class Hold:
    """Wraps a module's `store_uploads`: the first call stores, says so, and waits for `go`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module) -> None:
        self.stored = asyncio.Event()
        self.go = asyncio.Event()
        real = module.store_uploads
        held = False

        async def holding(*args, **kwargs):
            nonlocal held
            result = await real(*args, **kwargs)
            if not held:
                held = True
                self.stored.set()
                await self.go.wait()
            return result

        monkeypatch.setattr(module, "store_uploads", holding)


def not_a_photo() -> bytes:
    return f"Notiz {uuid.uuid4().hex}: kein Bild\n".encode()


async def submit_not_a_photo(gql, company, template, data: bytes) -> dict:
    variables = submit_input(company, template, [{"key": "room", "number": 4}, {"key": "photo", "upload": None}])
    return await upload_submit(
        gql, company.inspector.token, SUBMIT, variables, {"variables.input.answers.1.upload": ("notiz.png", data)}
    )


async def test_a_refused_request_leaves_the_file_another_is_about_to_reference(
    gql, company, client, settings, monkeypatch
):
    template = await create_template(gql, company)
    data = not_a_photo()
    key = storage_key(sha(data))
    hold = Hold(monkeypatch, resolvers.tickets.write)
    variables = {
        "input": {
            "objectId": company.gid("SiteObject", company.site.id),
            "ticketTypeId": company.gid("TicketType", company.recleaning.id),
            "title": "Notiz vom Hausmeister",
            "attachments": [None],
        }
    }
    # A: the portal user attaches the note to a new ticket, held after storing it.
    creating = asyncio.create_task(
        gql.upload(
            CREATE_TICKET, variables, {"variables.input.attachments.0": ("notiz.txt", data)}, company.portal_user.token
        )
    )
    await hold.stored.wait()
    assert stored_bytes(settings, key) is not None
    # B: the inspector sends the same bytes as a photo: refused, and its clean-up runs now.
    refused = await submit_not_a_photo(gql, company, template, data)
    assert errors_of(refused) == {"code": "BAD_USER_INPUT", "field": "photo"}
    assert stored_bytes(settings, key) is not None  # A still has it in flight
    hold.go.set()
    response = await creating
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    [attachment] = body["data"]["createTicket"]["attachments"]
    assert (await download(client, attachment["downloadUrl"])).content == data


async def test_the_last_request_to_give_up_removes_the_file(gql, company, settings, monkeypatch):
    template = await create_template(gql, company)
    data = not_a_photo()
    key = storage_key(sha(data))
    hold = Hold(monkeypatch, resolvers.forms.submit)
    first = asyncio.create_task(submit_not_a_photo(gql, company, template, data))
    await hold.stored.wait()
    second = await submit_not_a_photo(gql, company, template, data)
    assert errors_of(second)["code"] == "BAD_USER_INPUT"
    assert stored_bytes(settings, key) is not None  # the first one has not given up yet
    hold.go.set()
    assert errors_of(await first)["code"] == "BAD_USER_INPUT"
    assert stored_bytes(settings, key) is None  # nobody holds it now: nothing is left behind
