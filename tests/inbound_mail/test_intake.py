"""A mail to an object's intake address opens a ticket; the names around it (GraphQL)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from core.ids import to_global_id
from models.tickets import Attachment, Ticket, TicketSource
from tests.inbound_mail.conftest import DOMAIN, Channel, counted

INTAKE = (
    """query($id: ID!) { node(id: $id) { ... on SiteObject { intakeAddress customer { mailTicketType { name } } } } }"""
)
ROTATE = """mutation($id: ID!) { rotateObjectIntakeAddress(objectId: $id) { intakeAddress } }"""
SET_TYPE = """mutation($c: ID!, $t: ID) { setCustomerMailTicketType(customerId: $c, ticketTypeId: $t) {
  mailTicketType { name } } }"""
PDF = b"%PDF-1.4\n" + b"0" * 100


def new_mail(sender: str, to: str, subject: str, body: str, pdf: bool = False) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="kunde.test")
    message.set_content(body)
    if pdf:
        message.add_attachment(PDF, maintype="application", subtype="pdf", filename="plan.pdf")
    return message


async def intake_of(channel: Channel, gql, site) -> str:
    admin = gql.as_viewer(channel.world.admin.token)
    data = await admin.ok(INTAKE, {"id": str(to_global_id("SiteObject", site.id))})
    return data["node"]["intakeAddress"]


async def mail_type(channel: Channel, gql, kind) -> None:
    admin = gql.as_viewer(channel.world.admin.token)
    world = channel.world
    variables = {"c": str(to_global_id("Customer", world.a.id)), "t": str(to_global_id("TicketType", kind.id))}
    await admin.ok(SET_TYPE, variables)


async def test_customer_users_do_not_see_intake_addresses(channel: Channel, gql) -> None:
    world = channel.world
    body = await gql.as_viewer(world.alice.token)(INTAKE, {"id": str(to_global_id("SiteObject", world.a1.id))})
    assert body["data"]["node"]["intakeAddress"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    staff = await gql.as_viewer(world.staff.token).ok(INTAKE, {"id": str(to_global_id("SiteObject", world.a1.id))})
    assert staff["node"]["intakeAddress"].endswith("@" + DOMAIN)


async def test_only_portal_admins_configure_the_channel(channel: Channel, gql) -> None:
    world = channel.world
    staff = gql.as_viewer(world.staff.token)
    assert await staff.error_code(ROTATE, {"id": str(to_global_id("SiteObject", world.a1.id))}) == "FORBIDDEN"
    variables = {"c": str(to_global_id("Customer", world.a.id)), "t": str(to_global_id("TicketType", world.defect.id))}
    assert await staff.error_code(SET_TYPE, variables) == "FORBIDDEN"


async def test_a_mail_ticket_type_must_be_enabled_for_the_customer(channel: Channel, gql) -> None:
    world = channel.world
    admin = gql.as_viewer(world.admin.token)
    for kind in (world.damage, world.vacation):  # not enabled for A; an absence type
        variables = {"c": str(to_global_id("Customer", world.a.id)), "t": str(to_global_id("TicketType", kind.id))}
        body = await admin(SET_TYPE, variables)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "ticketTypeId"}


async def test_a_mail_to_the_intake_address_opens_a_ticket(channel: Channel, gql) -> None:
    world = channel.world
    await mail_type(channel, gql, world.defect)
    address = await intake_of(channel, gql, world.a1)
    before = counted("accepted")
    mail = new_mail(world.alice.email, address, "Heizung im Flur kalt", "Seit heute früh.\n\nGruß Alice", pdf=True)
    assert (await channel.send(mail)).startswith("250")
    ticket = await Ticket.get(object_id=world.a1.id)
    assert (ticket.title, ticket.source, ticket.created_by_id, ticket.ticket_type_id) == (
        "Heizung im Flur kalt",
        TicketSource.EMAIL,
        world.alice.account.id,
        world.defect.id,
    )
    assert ticket.description.startswith("Seit heute früh.")
    files = await Attachment.filter(ticket_id=ticket.id).values("filename", "content_type")
    assert files == [{"filename": "plan.pdf", "content_type": "application/pdf"}]
    assert counted("accepted") == before + 1
    seen = await gql.as_viewer(world.alice.token).ok(
        """query($id: ID!) { node(id: $id) { ... on Ticket { source title } } }""",
        {"id": str(to_global_id("Ticket", ticket.id))},
    )
    assert seen["node"] == {"source": "EMAIL", "title": "Heizung im Flur kalt"}


async def test_intake_refusals(channel: Channel, gql) -> None:
    world = channel.world
    address = await intake_of(channel, gql, world.a1)

    async def refused(mail: EmailMessage, outcome: str) -> None:
        before = counted(outcome)
        assert (await channel.send(mail)).startswith("250")
        assert counted(outcome) == before + 1
        assert await Ticket.all().count() == 0

    # No mail ticket type yet: refused.
    await refused(new_mail(world.alice.email, address, "Ohne Typ", "x"), "refused_scope")
    await mail_type(channel, gql, world.defect)
    # Bob is a customer user of the same customer who does not see a1; Carl is another customer's.
    await refused(new_mail(world.bob.email, address, "Bob", "x"), "refused_scope")
    await refused(new_mail(world.carl.email, address, "Carl", "x"), "refused_scope")
    # An employee, and a stranger, are not customer users.
    await refused(new_mail(world.staff.email, address, "Jonas", "x"), "refused_sender")
    await refused(new_mail("fremd@irgendwo.test", address, "Fremd", "x"), "refused_sender")
    # A rotated address: the old one is no intake address any more.
    rotated = await gql.as_viewer(world.admin.token).ok(ROTATE, {"id": str(to_global_id("SiteObject", world.a1.id))})
    assert rotated["rotateObjectIntakeAddress"]["intakeAddress"] != address
    await refused(new_mail(world.alice.email, address, "Alt", "x"), "refused_token")
    assert (
        await channel.send(
            new_mail(world.alice.email, rotated["rotateObjectIntakeAddress"]["intakeAddress"], "Neu", "y")
        )
    ).startswith("250")
    assert await Ticket.all().count() == 1
