"""The index follows every change at once: a change is searchable as soon as its mutation answered."""

from __future__ import annotations

import asyncio
import os
import sys

from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from models.customers import SiteObject
from models.search import reindex
from tests.search.conftest import gid, search

CREATE = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { id number } }"""
UPDATE = """mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { id } }"""
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""
EDIT = """mutation($input: EditCommentInput!) { editComment(input: $input) { id } }"""
DELETE = """mutation($id: ID!) { deleteComment(id: $id) }"""
ATTACH = """mutation($ticketId: ID!, $file: Upload!) { addAttachment(ticketId: $ticketId, file: $file) { id } }"""
DETACH = """mutation($id: ID!) { deleteAttachment(id: $id) }"""


async def titles(client, text):
    return (await search(client, text)).titles


async def test_every_mutation_is_searchable_when_it_answers(world):
    staff, alice = world.as_(world.staff), world.as_(world.alice)
    created = await alice.ok(
        CREATE,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Rolltor klemmt",
                "description": "Am Hintereingang.",
            }
        },
    )
    ticket = created["createTicket"]["id"]
    assert await titles(alice, "rolltore") == ["Rolltor klemmt"]
    await staff.ok(UPDATE, {"input": {"id": ticket, "title": "Schiebetor klemmt", "description": "Vorne."}})
    assert await titles(alice, "rolltor") == []
    assert await titles(alice, "hintereingang") == []
    assert await titles(alice, "schiebetor vorne") == ["Schiebetor klemmt"]

    comment = await staff.ok(COMMENT, {"input": {"ticketId": ticket, "body": "Ersatzteil Federpaket bestellt"}})
    comment_id = comment["addComment"]["id"]
    assert await titles(alice, "federpaket") == ["Schiebetor klemmt"]
    note = await staff.ok(COMMENT, {"input": {"ticketId": ticket, "body": "Lieferant Kranich", "internal": True}})
    assert await titles(staff, "kranich") == ["Schiebetor klemmt"]
    assert await titles(alice, "kranich") == []
    await staff.ok(EDIT, {"input": {"id": comment_id, "body": "Ersatzteil Motor bestellt"}})
    assert await titles(alice, "federpaket") == []
    assert await titles(alice, "motor") == ["Schiebetor klemmt"]
    await staff.ok(DELETE, {"id": comment_id})
    assert await titles(alice, "motor") == []
    await staff.ok(DELETE, {"id": note["addComment"]["id"]})
    assert await titles(staff, "kranich") == []

    response = await alice.upload(
        ATTACH, {"ticketId": ticket, "file": None}, {"variables.file": ("Torfoto.txt", b"x1")}
    )
    assert response.status_code == 200, response.text
    attachment = response.json()["data"]["addAttachment"]["id"]
    assert await titles(alice, "torfoto") == ["Schiebetor klemmt"]
    await staff.ok(DETACH, {"id": attachment})
    assert await titles(alice, "torfoto") == []


async def test_an_object_renamed_anywhere_is_searched_by_its_new_name(world, corpus):
    staff = world.as_(world.staff)
    assert len(await titles(staff, "rathaus")) == 5
    await SiteObject.filter(id=world.a1.id).update(name="Stadthaus")
    assert await titles(staff, "rathaus") == []
    assert len(await titles(staff, "stadthaus")) == 5


async def test_reindex_rebuilds_every_document(world, corpus, settings):
    staff = world.as_(world.staff)
    connection = get_connection("default")
    await search(staff, "fenster")  # (SQLite: the factories' rows indexed first)
    await connection.execute_script('DELETE FROM "ticket_search"')
    assert await titles(staff, "fenster") == []
    async with in_transaction() as transaction:
        assert await reindex(transaction, batch=4) == len(corpus)
    assert set(await titles(staff, "fenster")) == {"Fenster streifig", "Glas matt", "Heizung laut"}


async def test_the_reindex_command(world, corpus, settings):
    connection = get_connection("default")
    await search(world.as_(world.staff), "fenster")
    await connection.execute_script('DELETE FROM "ticket_search"')
    env = {
        **os.environ,
        "SITEDESK_DATABASE_URL": settings.database_url,
        "SITEDESK_SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "SITEDESK_FILES_DIR": str(settings.files_dir),
    }
    if settings.is_sqlite:
        await connection.close()  # one process writes a SQLite file at a time
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "search", "reindex", env=env, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await process.communicate()
    assert process.returncode == 0
    assert f"search index rebuilt: {len(corpus)} tickets" in output.decode()
    assert "Tür beschädigt" in await titles(world.as_(world.staff), "tür")
