"""`subscription { ticketChanges }` from the outside: a server process, a graphql-transport-ws client.

Each event is authorised for each subscriber at delivery: the refused side
(a customer user who must get nothing) is what these tests are mostly about.
"""

from __future__ import annotations

import asyncio
import time

from core.ids import to_global_id
from core.settings import Settings
from models.customers import CustomerTicketType
from models.tickets import Comment, Ticket
from tests.conftest import World
from tests.factories import make_customer_user, make_ticket
from tests.hardening.servers import Server
from tests.live.conftest import acknowledged, http_to, live_socket

CHANGES = """subscription($objectId: ID, $ticketId: ID) {
  ticketChanges(objectId: $objectId, ticketId: $ticketId) {
    kind ticketId occurredAt ticket { id title status } comment { body } attachment { filename } } }"""
CREATE = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }"
COMMENT = "mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"
UPDATE = "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { id } }"


def gid(kind: str, pk: int) -> str:
    return to_global_id(kind, pk)


async def create_ticket(server: Server, token: str, site_id: int, type_id: int, title: str) -> str:
    async with http_to(server, token) as gql:
        data = await gql.ok(
            CREATE,
            {
                "input": {
                    "objectId": gid("SiteObject", site_id),
                    "ticketTypeId": gid("TicketType", type_id),
                    "title": title,
                }
            },
        )
    return str(data["createTicket"]["id"])


async def comment(server: Server, token: str, ticket_id: str, body: str, internal: bool = False) -> None:
    async with http_to(server, token) as gql:
        await gql.ok(COMMENT, {"input": {"ticketId": ticket_id, "body": body, "internal": internal}})


async def test_a_customer_user_sees_a_colleagues_ticket_and_public_comment_but_not_the_internal_one(
    world: World, settings: Settings, live_server: Server
) -> None:
    anna = await make_customer_user(settings, world.a, objects=[world.a1], name="Anna")
    async with (
        live_socket(live_server, anna.token) as customer,
        live_socket(live_server, world.staff.token) as employee,
    ):
        await acknowledged(customer)
        await acknowledged(employee)
        await customer.subscribe(CHANGES, {"objectId": gid("SiteObject", world.a1.id)})
        await employee.subscribe(CHANGES.replace("comment { body }", "comment { body internal }"))

        started = time.monotonic()
        ticket_id = await create_ticket(live_server, world.alice.token, world.a1.id, world.defect.id, "Tür klemmt")
        created = await customer.next_payload(timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert created["data"]["ticketChanges"]["kind"] == "CREATED"
        assert created["data"]["ticketChanges"]["ticketId"] == ticket_id
        assert created["data"]["ticketChanges"]["ticket"]["title"] == "Tür klemmt"
        assert "errors" not in created

        await comment(live_server, world.staff.token, ticket_id, "Intern: Schlosser teuer", internal=True)
        started = time.monotonic()
        await comment(live_server, world.staff.token, ticket_id, "Wir kommen morgen")
        public = await customer.next_payload(timeout=1.0)
        assert time.monotonic() - started < 1.0
        # The next message after CREATED is the public comment: nothing was sent for the internal one.
        assert public["data"]["ticketChanges"]["kind"] == "COMMENT_ADDED"
        assert public["data"]["ticketChanges"]["comment"] == {"body": "Wir kommen morgen"}
        assert "Intern" not in str(public)
        await customer.nothing_within(1.0)

        # The internal comment was committed and announced: the employee got all three, in order.
        seen = [(await employee.next_payload())["data"]["ticketChanges"] for _ in range(3)]
        assert [c["kind"] for c in seen] == ["CREATED", "COMMENT_ADDED", "COMMENT_ADDED"]
        assert seen[1]["comment"] == {"body": "Intern: Schlosser teuer", "internal": True}
        assert await Comment.filter(internal=True, body__startswith="Intern: Schlosser").count() == 1


async def test_other_customers_tickets_and_absence_requests_send_nothing(
    world: World, settings: Settings, live_server: Server
) -> None:
    async with live_socket(live_server, world.alice.token) as alice:
        await acknowledged(alice)
        await alice.subscribe(CHANGES)
        carls = await create_ticket(live_server, world.carl.token, world.b1.id, world.damage.id, "Sandkasten")
        await comment(live_server, world.staff.token, carls, "Erledigt")
        # An absence request on Alice's object, written by the HR employee.
        await create_ticket(live_server, world.hr.token, world.a1.id, world.vacation.id, "Urlaub August")
        await alice.nothing_within(1.5)
        # The feed works: her own ticket arrives.
        await create_ticket(live_server, world.alice.token, world.a1.id, world.defect.id, "Licht")
        payload = await alice.next_payload(timeout=2.0)
        assert payload["data"]["ticketChanges"]["ticket"]["title"] == "Licht"


async def test_a_ticket_leaving_the_scope_sends_one_removed_and_nothing_more(
    world: World, settings: Settings, live_server: Server
) -> None:
    async with live_socket(live_server, world.alice.token) as alice:
        await acknowledged(alice)
        await alice.subscribe(CHANGES)
        ticket_id = await create_ticket(live_server, world.alice.token, world.a1.id, world.defect.id, "Fenster")
        assert (await alice.next_payload())["data"]["ticketChanges"]["kind"] == "CREATED"

        # The type is disabled for Alice's customer mid-subscription (no ticket event of its own) ...
        async with http_to(live_server, world.admin.token) as admin:
            await admin.ok(
                "mutation($c: ID!) { setCustomerTicketTypes(customerId: $c, ticketTypeIds: []) { id } }",
                {"c": gid("Customer", world.a.id)},
            )
        assert not await CustomerTicketType.filter(customer_id=world.a.id).exists()
        # ... so the ticket's next change brings the REMOVED.
        async with http_to(live_server, world.staff.token) as gql:
            await gql.ok(UPDATE, {"input": {"id": ticket_id, "title": "Fenster (geheim)"}})
            removed = await alice.next_payload()
            assert removed["data"]["ticketChanges"] == {
                "kind": "REMOVED",
                "ticketId": ticket_id,
                "occurredAt": removed["data"]["ticketChanges"]["occurredAt"],
                "ticket": None,
                "comment": None,
                "attachment": None,
            }
            assert "geheim" not in str(removed)
            await gql.ok(UPDATE, {"input": {"id": ticket_id, "title": "Fenster (noch geheimer)"}})
            await comment(live_server, world.staff.token, ticket_id, "Öffentlich, aber nicht mehr für Alice")
        await alice.nothing_within(1.5)


async def test_arguments_out_of_scope_are_not_found(world: World, settings: Settings, live_server: Server) -> None:
    carls = await make_ticket(world.b1, world.defect, "Sandkasten", by=world.carl)
    async with live_socket(live_server, world.alice.token) as alice:
        await acknowledged(alice)
        for variables in ({"objectId": gid("SiteObject", world.b1.id)}, {"ticketId": gid("Ticket", carls.id)}):
            op = await alice.subscribe(CHANGES, variables)
            message = await alice.receive()
            assert message["type"] == "error" and message["id"] == op, message
            assert message["payload"][0]["extensions"]["code"] == "NOT_FOUND"
        # Her own object and ticket are fine; nothing arrives until something changes.
        own = await make_ticket(world.a1, world.defect, "Flur", by=world.alice)
        await alice.subscribe(CHANGES, {"ticketId": gid("Ticket", own.id)})
        await alice.nothing_within(0.5)
        await comment(live_server, world.staff.token, gid("Ticket", own.id), "Gesehen")
        payload = await alice.next_payload()
        assert payload["data"]["ticketChanges"]["comment"] == {"body": "Gesehen"}


async def test_fields_obey_policies_as_in_a_query(world: World, settings: Settings, live_server: Server) -> None:
    async with live_socket(live_server, world.alice.token) as alice:
        await acknowledged(alice)
        await alice.subscribe("subscription { ticketChanges { kind comment { body internal } } }")
        ticket_id = await create_ticket(live_server, world.alice.token, world.a1.id, world.defect.id, "Boden")
        await alice.next_payload()
        await comment(live_server, world.staff.token, ticket_id, "Öffentlich")
        payload = await alice.next_payload()
        # `Comment.internal` is for employees: null with FORBIDDEN, the rest of the change stays.
        assert payload["data"]["ticketChanges"] == {
            "kind": "COMMENT_ADDED",
            "comment": {"body": "Öffentlich", "internal": None},
        }
        assert [e["extensions"]["code"] for e in payload["errors"]] == ["FORBIDDEN"]


async def test_a_rolled_back_change_sends_nothing(world: World, settings: Settings, live_server: Server) -> None:
    from tortoise.transactions import in_transaction

    from models.tickets import TicketEventKind
    from resolvers.tickets.write import record

    ticket = await make_ticket(world.a1, world.defect, "Heizung", by=world.alice)
    async with live_socket(live_server, world.staff.token) as staff:
        await acknowledged(staff)
        await staff.subscribe(CHANGES)

        class Abort(Exception):
            pass

        try:
            async with in_transaction() as connection:
                await record(connection, ticket.id, TicketEventKind.UPDATED, None, "a", "rolled back")
                raise Abort
        except Abort:
            pass
        await staff.nothing_within(1.0)
        await comment(live_server, world.staff.token, gid("Ticket", ticket.id), "Danach")
        payload = await staff.next_payload()
        assert payload["data"]["ticketChanges"]["kind"] == "COMMENT_ADDED"
    assert await Ticket.filter(id=ticket.id).count() == 1


async def test_subscribing_before_the_write_commits_still_delivers_in_order(
    world: World, settings: Settings, live_server: Server
) -> None:
    async with live_socket(live_server, world.alice.token) as alice:
        await acknowledged(alice)
        await alice.subscribe(CHANGES, {"objectId": gid("SiteObject", world.a1.id)})
        titles = [f"Mangel {i}" for i in range(5)]
        await asyncio.gather(
            *(create_ticket(live_server, world.alice.token, world.a1.id, world.defect.id, t) for t in titles)
        )
        got = [(await alice.next_payload())["data"]["ticketChanges"]["ticket"]["title"] for _ in titles]
        assert sorted(got) == sorted(titles)
        await alice.nothing_within(0.5)


async def test_a_watched_ticket_whose_object_is_unassigned_sends_removed(
    world: World, settings: Settings, live_server: Server
) -> None:
    ticket = await make_ticket(world.a1, world.defect, "Aufzug", by=world.alice)
    async with live_socket(live_server, world.alice.token) as alice:
        await acknowledged(alice)
        await alice.subscribe(CHANGES, {"ticketId": gid("Ticket", ticket.id)})
        async with http_to(live_server, world.admin.token) as admin:
            await admin.ok(
                "mutation($u: ID!) { setCustomerUserObjects(customerUserId: $u, objectIds: []) { id } }",
                {"u": gid("CustomerUser", world.alice.pk)},
            )
        await comment(live_server, world.staff.token, gid("Ticket", ticket.id), "Techniker bestellt")
        removed = await alice.next_payload()
        assert removed["data"]["ticketChanges"]["kind"] == "REMOVED"
        assert removed["data"]["ticketChanges"]["ticket"] is None
        assert "Techniker" not in str(removed)
        await comment(live_server, world.staff.token, gid("Ticket", ticket.id), "Noch einer")
        await alice.nothing_within(1.5)


async def test_a_deleted_comment_is_announced_to_employees_only(
    world: World, settings: Settings, live_server: Server
) -> None:
    ticket = await make_ticket(world.a1, world.defect, "Treppe", by=world.alice)
    async with (
        live_socket(live_server, world.alice.token) as alice,
        live_socket(live_server, world.staff.token) as staff,
    ):
        await acknowledged(alice)
        await acknowledged(staff)
        await alice.subscribe(CHANGES)
        await staff.subscribe(CHANGES)
        async with http_to(live_server, world.staff.token) as gql:
            added = await gql.ok(
                COMMENT,
                {"input": {"ticketId": gid("Ticket", ticket.id), "body": "Intern: weg damit", "internal": True}},
            )
            assert (await staff.next_payload())["data"]["ticketChanges"]["kind"] == "COMMENT_ADDED"
            await gql.ok("mutation($id: ID!) { deleteComment(id: $id) }", {"id": added["addComment"]["id"]})
        deleted = (await staff.next_payload())["data"]["ticketChanges"]
        assert (deleted["kind"], deleted["comment"]) == ("COMMENT_EDITED", None)
        # Whether the deleted comment was internal is gone with it: customer users hear nothing.
        await alice.nothing_within(1.0)
