"""The employees responsible for an object: who sets them, who sees them, and the mail they get
when a ticket without assignee appears on it (from the portal or from a form)."""

from __future__ import annotations

import pytest

import resolvers.forms.submit
from core.ids import to_global_id
from models.accounts import Account
from models.customers import ObjectResponsible
from models.notifications import OutboxMail
from tests.forms.conftest import SUBMIT, Company, create_template, submit_input
from tests.notifications.conftest import CREATE, SETTINGS
from tests.notifications.test_rules import deliver

SET = """mutation($objectId: ID!, $employeeIds: [ID!]!) {
  setObjectResponsibles(objectId: $objectId, employeeIds: $employeeIds) { id name responsibleEmployees { name } } }"""
READ = """{ objects { edges { node { name responsibleEmployees { name } } } } }"""


def gid(kind: str, pk: int) -> str:
    return to_global_id(kind, pk)


async def make_responsible(mailing, *people) -> None:
    await mailing.as_(mailing.admin).ok(
        SET, {"objectId": gid("SiteObject", mailing.site.id), "employeeIds": [gid("Employee", p.pk) for p in people]}
    )


def portal_ticket(mailing, title: str = "Licht im Keller defekt") -> dict:
    return {
        "input": {
            "objectId": gid("SiteObject", mailing.site.id),
            "ticketTypeId": gid("TicketType", mailing.defect.id),
            "title": title,
        }
    }


async def test_a_portal_ticket_without_assignee_mails_the_responsible_employees(mailing, mail_settings, inbox):
    await make_responsible(mailing, mailing.staff, mailing.petra)
    await mailing.as_(mailing.petra).ok(SETTINGS, {"input": {"locale": "EN"}})
    await mailing.as_(mailing.bob).ok(CREATE, portal_ticket(mailing))
    await deliver(mail_settings)

    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == sorted([mailing.staff.email, mailing.petra.email])
    [to_staff] = inbox.to(mailing.staff.email)
    assert to_staff.message["Subject"] == "[#2] Licht im Keller defekt – Neues Ticket"
    assert "Bob Kunde hat ein Ticket für ein Objekt erstellt, für das Sie zuständig sind." in to_staff.text
    assert "Rathaus Mitte" in to_staff.text
    [to_petra] = inbox.to(mailing.petra.email)
    assert "Bob Kunde created a ticket on an object you are responsible for." in to_petra.text
    # Nobody else: not the admin, not the creator, not the other customer user.
    for address in (mailing.admin.email, mailing.alice.email, mailing.bob.email):
        assert inbox.to(address) == []


async def test_responsibles_who_switched_new_tickets_off_hear_nothing(mailing, mail_settings, inbox):
    await make_responsible(mailing, mailing.staff, mailing.petra)
    await mailing.as_(mailing.staff).ok(SETTINGS, {"input": {"newTickets": False}})
    await mailing.as_(mailing.bob).ok(CREATE, portal_ticket(mailing))
    await deliver(mail_settings)
    assert [m.rcpt_tos for m in inbox.messages] == [[mailing.petra.email]]


async def test_back_office_tickets_and_other_objects_mail_no_responsible(mailing, world, mail_settings, inbox):
    await make_responsible(mailing, mailing.staff)
    # An employee creating an unassigned ticket: they chose not to assign it, nobody is mailed.
    await mailing.as_(mailing.petra).ok(CREATE, portal_ticket(mailing, "Vom Büro angelegt"))
    # A portal ticket on another object (world.a1, Alice's in the shared world) whose responsibles are none.
    await world.as_(world.alice).ok(
        CREATE,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", mailing.defect.id),
                "title": "Anderes Objekt",
            }
        },
    )
    await deliver(mail_settings)
    assert inbox.messages == []


async def test_a_form_ticket_mails_the_responsibles_in_the_submissions_transaction(
    mailing, world, settings, mail_settings, inbox, monkeypatch
):
    """Form tickets have no assignee: the object's responsible employees hear of them, the
    customer (who did not create them) does not, and a submission that rolls back mails nobody."""
    site = world.b1
    company = Company(
        world.b, site, world.b1, world.defect, world.defect, world.vacation, world.petra, world.staff, world.carl
    )
    template = await create_template(world.gql, company)
    await world.as_(world.admin).ok(
        SET,
        {
            "objectId": gid("SiteObject", site.id),
            "employeeIds": [gid("Employee", p.pk) for p in (world.petra, world.staff)],
        },
    )
    inspector = world.as_(world.staff)  # responsible too: nobody is mailed about their own action
    bad_room = [{"key": "room", "number": 1}, {"key": "recleaning", "boolean": True}]

    real_attach = resolvers.forms.submit.attach_stored

    async def failing_attach(*args, **kwargs):
        await real_attach(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(resolvers.forms.submit, "attach_stored", failing_attach)
    body = await inspector(SUBMIT, submit_input(company, template, bad_room))
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert await OutboxMail.all().count() == 0
    monkeypatch.setattr(resolvers.forms.submit, "attach_stored", real_attach)

    data = await inspector.ok(SUBMIT, submit_input(company, template, bad_room))
    [ticket] = data["submitForm"]["createdTickets"]
    await deliver(mail_settings)
    assert [m.rcpt_tos for m in inbox.messages] == [[world.petra.email]]
    [mail] = inbox.messages
    assert mail.message["Subject"] == f"[#{ticket['number']}] Nachreinigung Gruppenraum – Neues Ticket"
    assert "Jonas Weber hat ein Ticket für ein Objekt erstellt, für das Sie zuständig sind." in mail.text
    assert inbox.to(world.carl.email) == []


# ---------------------------------------------------------------- the mutation and the field


async def test_admins_set_and_employees_read_the_responsibles(mailing):
    await make_responsible(mailing, mailing.staff, mailing.petra, mailing.staff)  # a repeat counts once
    data = await mailing.as_(mailing.petra).ok(READ)
    [node] = [e["node"] for e in data["objects"]["edges"] if e["node"]["name"] == "Rathaus Mitte"]
    assert node["responsibleEmployees"] == [{"name": "Jonas Weber"}, {"name": "Petra Schulz"}]
    await make_responsible(mailing)  # replaced by none
    assert await ObjectResponsible.all().count() == 0


async def test_a_customer_user_is_refused_the_mutation_and_the_field(mailing):
    await make_responsible(mailing, mailing.staff)
    alice = mailing.as_(mailing.alice)
    body = await alice(SET, {"objectId": gid("SiteObject", mailing.site.id), "employeeIds": []})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None
    body = await mailing.as_(mailing.staff)(SET, {"objectId": gid("SiteObject", mailing.site.id), "employeeIds": []})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # an employee without the permission
    assert await ObjectResponsible.all().count() == 1

    body = await alice(READ)
    [node] = [e["node"] for e in body["data"]["objects"]["edges"]]
    assert node == {"name": "Rathaus Mitte", "responsibleEmployees": None}  # the rest of the answer stays
    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["objects", "edges", 0, "node", "responsibleEmployees"]


@pytest.mark.parametrize(
    "object_id, employee_ids, code, field",
    [
        (lambda m: gid("SiteObject", 999_999), lambda m: [], "NOT_FOUND", "objectId"),
        (lambda m: gid("SiteObject", m.site.id), lambda m: [gid("Employee", 999_999)], "NOT_FOUND", "employeeIds"),
        (lambda m: gid("Ticket", m.site.id), lambda m: [], "NOT_FOUND", "objectId"),
        (
            lambda m: gid("SiteObject", m.site.id),
            lambda m: [gid("CustomerUser", m.alice.pk)],
            "NOT_FOUND",
            "employeeIds",
        ),
        (lambda m: gid("SiteObject", m.site.id), lambda m: ["kaputt"], "BAD_USER_INPUT", "employeeIds"),
        (
            lambda m: gid("SiteObject", m.site.id),
            lambda m: [gid("Employee", m.petra.pk)],
            "BAD_USER_INPUT",
            "employeeIds",
        ),
    ],
)
async def test_bad_ids_store_nothing(mailing, object_id, employee_ids, code, field):
    await make_responsible(mailing, mailing.staff)
    await Account.filter(id=mailing.petra.account.id).update(is_active=False)  # the last case: deactivated
    body = await mailing.as_(mailing.admin)(SET, {"objectId": object_id(mailing), "employeeIds": employee_ids(mailing)})
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["errors"][0]["extensions"].get("field") == field
    assert await ObjectResponsible.all().values_list("employee_id", flat=True) == [mailing.staff.pk]
