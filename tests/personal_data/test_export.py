"""exportPersonData: system administrators only, built in the background, nothing of others in it."""

from __future__ import annotations

import json

from core.ids import to_global_id
from models.audit import AuditEvent
from models.personal_data import PersonExport
from resolvers.personal_data.export import build_due_exports
from tests.factories import make_attachment, make_comment, make_ticket
from tests.personal_data.conftest import EXPORT, POLL, export_zip


def alice_id(world) -> str:
    return to_global_id("CustomerUser", world.alice.pk)


async def test_customer_users_and_plain_employees_cannot_export(world):
    for person in (world.alice, world.carl, world.staff, world.petra, world.hr):
        body = await world.as_(person)(EXPORT, {"personId": alice_id(world)})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert body["data"] is None
    assert await PersonExport.all().count() == 0
    assert await AuditEvent.filter(action="PERSON_DATA_EXPORTED").count() == 0


async def test_an_export_is_not_readable_by_anyone_but_administrators(client, world, settings):
    started = (await world.as_(world.admin).ok(EXPORT, {"personId": alice_id(world)}))["exportPersonData"]
    await build_due_exports(settings)
    for person in (world.alice, world.staff):
        assert (await world.as_(person).ok(POLL, {"id": started["id"]}))["node"] is None


async def test_unknown_person_is_not_found(world):
    body = await world.as_(world.admin)(EXPORT, {"personId": to_global_id("Ticket", 1)})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_customer_export_holds_their_records_and_nothing_of_others(client, world, settings):
    alice, bob, carl, staff = world.alice, world.bob, world.carl, world.staff
    mine = await make_ticket(world.a1, world.defect, "Fenster undicht", by=alice, description="Raum 2.14")
    await make_comment(mine, staff, "Wir kommen am Montag.")
    await make_comment(mine, staff, "Kunde ist schwierig", internal=True)
    await make_comment(mine, alice, "Danke!")
    photo = await make_attachment(settings, mine, alice, "fenster.txt", b"Foto des Fensters " + alice.email.encode())
    theirs = await make_ticket(world.a2, world.defect, "Bobs Ticket", by=bob)
    await make_comment(theirs, bob, "Bobs Kommentar")
    elsewhere = await make_ticket(world.b1, world.defect, "Kita-Ticket", by=carl)
    await make_comment(elsewhere, carl, "Carls Kommentar")
    # A ticket Alice created on another customer's object (the object changed hands since).
    moved = await make_ticket(world.b1, world.defect, "Auf fremdem Objekt", by=alice)
    await make_comment(moved, alice, "Kommentar auf fremdem Objekt")

    archive = await export_zip(client, world.as_(world.admin), alice_id(world))
    document = json.loads(archive.read("person.json"))
    text = archive.read("person.json").decode()

    assert document["format"] == "sitedesk.person-export" and document["version"] == 1
    assert document["person"]["name"] == "Alice" and document["person"]["email"] == alice.email
    assert document["person"]["customer"]["name"] == "Stadtwerke"
    assert [t["title"] for t in document["ticketsCreated"]] == ["Fenster undicht"]
    assert [c["body"] for c in document["ticketsCreated"][0]["comments"]] == ["Wir kommen am Montag.", "Danke!"]
    assert [c["body"] for c in document["comments"]] == ["Danke!"]
    assert document["notificationSettings"]["comments"] is True
    [attachment] = document["attachments"]
    assert archive.read(attachment["file"]) == b"Foto des Fensters " + alice.email.encode()
    assert attachment["id"] == to_global_id("Attachment", photo.id)
    for foreign in ("schwierig", "Bobs", "Kita-Ticket", "Carls", "fremdem Objekt"):
        assert foreign not in text, foreign
    assert sorted(archive.namelist()) == sorted(["person.json", attachment["file"]])


async def test_an_employee_export_holds_their_own_internal_comments_only(client, world):
    ticket = await make_ticket(world.a1, world.defect, "Leck", by=world.alice)
    await make_comment(ticket, world.staff, "Meine interne Notiz", internal=True)
    await make_comment(ticket, world.petra, "Petras interne Notiz", internal=True)
    archive = await export_zip(client, world.as_(world.admin), to_global_id("Employee", world.staff.pk))
    document = json.loads(archive.read("person.json"))
    assert [(c["body"], c["internal"]) for c in document["comments"]] == [("Meine interne Notiz", True)]
    assert "Petras" not in archive.read("person.json").decode()


async def test_export_is_audited_and_expires_into_a_refused_link(client, world, settings):
    archive = await export_zip(client, world.as_(world.admin), alice_id(world))
    assert "person.json" in archive.namelist()
    [event] = await AuditEvent.filter(action="PERSON_DATA_EXPORTED")
    assert (event.subject_type, event.subject_id, event.actor_id) == (
        "CustomerUser",
        world.alice.pk,
        world.admin.account.id,
    )
    export = await PersonExport.get()
    assert export.storage_key and export.size and export.expires_at
    tampered = (await world.as_(world.admin).ok(POLL, {"id": to_global_id("PersonExport", export.id)}))["node"]
    response = await client.get(tampered["downloadUrl"].replace("signature=", "signature=x"))
    assert response.status_code == 403


async def test_two_builders_build_one_export_once(world, settings):
    await world.as_(world.admin).ok(EXPORT, {"personId": alice_id(world)})
    # The request started a build in this process; further builders find nothing left to claim.
    import asyncio

    results = await asyncio.gather(build_due_exports(settings), build_due_exports(settings))
    assert sum(results) <= 1
    for _ in range(100):
        if (await PersonExport.get()).status != "PENDING":
            break
        await asyncio.sleep(0.02)
    export = await PersonExport.get()
    assert export.status == "READY" and export.attempts == 1
