"""The customer portal rules of PRODUCT.md, mostly from the refused side, on the shared world."""

from __future__ import annotations

import pytest

from core.ids import to_global_id
from models.customers import Customer, CustomerTicketType, CustomerUserObject
from models.tickets import Comment, Ticket, TicketEvent
from permissions.policy import Permission
from tests.factories import make_comment, make_customer_user, make_employee, make_ticket


@pytest.fixture
async def tickets(world) -> dict[str, Ticket]:
    """Tickets on the world's objects, by whom and of which type they are; two comments on Alice's."""
    made = {
        "alice_a1": await make_ticket(world.a1, world.defect, "Flur nicht gewischt", by=world.alice),
        "staff_a1_defect": await make_ticket(
            world.a1, world.defect, "Fenster streifig", by=world.staff, assignee=world.staff
        ),
        "staff_a1_damage": await make_ticket(world.a1, world.damage, "Tür beschädigt", by=world.staff),
        "bob_a2": await make_ticket(world.a2, world.defect, "Müll nicht geleert", by=world.bob),
        "carl_b1": await make_ticket(world.b1, world.defect, "Sandkasten", by=world.carl),
        "vacation": await make_ticket(world.a1, world.vacation, "Urlaub Admin", by=world.admin),
    }
    await make_comment(made["alice_a1"], world.staff, "Intern: Team B schicken", internal=True)
    await make_comment(made["alice_a1"], world.staff, "Wir kümmern uns darum.")
    return made


def gid(kind: str, pk: int) -> str:
    return to_global_id(kind, pk)


TITLES = "{ tickets(first: 100) { totalCount edges { node { title } } } }"


async def titles(client) -> set[str]:
    data = await client.ok(TITLES)
    assert data["tickets"]["totalCount"] == len(data["tickets"]["edges"])
    return {e["node"]["title"] for e in data["tickets"]["edges"]}


async def test_customer_user_sees_enabled_types_on_assigned_objects_whoever_created_them(world, tickets):
    assert await titles(world.as_(world.alice)) == {"Flur nicht gewischt", "Fenster streifig"}
    assert await titles(world.as_(world.bob)) == {"Müll nicht geleert"}
    assert await titles(world.as_(world.carl)) == {"Sandkasten"}


async def test_employees_see_absence_requests_only_as_creator_assignee_or_manager(world, tickets):
    everything = {"Flur nicht gewischt", "Fenster streifig", "Tür beschädigt", "Müll nicht geleert", "Sandkasten"}
    assert await titles(world.as_(world.staff)) == everything
    assert await titles(world.as_(world.admin)) == everything | {"Urlaub Admin"}
    assert await titles(world.as_(world.hr)) == everything | {"Urlaub Admin"}
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await world.as_(world.staff).ok(node, {"id": gid("Ticket", tickets["vacation"].id)}))["node"] is None


async def test_foreign_ticket_by_node_is_null(world, tickets):
    query = "query($id: ID!) { node(id: $id) { ... on Ticket { title } } }"
    alice = world.as_(world.alice)
    for key in ("carl_b1", "bob_a2", "staff_a1_damage", "vacation"):
        data = await alice.ok(query, {"id": gid("Ticket", tickets[key].id)})
        assert data["node"] is None, key
    own = await alice.ok(query, {"id": gid("Ticket", tickets["alice_a1"].id)})
    assert own["node"] == {"title": "Flur nicht gewischt"}


async def test_foreign_objects_and_tickets_by_nested_path_and_filter(world, tickets):
    alice = world.as_(world.alice)
    objects = await alice.ok(
        "{ objects { totalCount edges { node { name tickets { totalCount edges { node { title } } } } } } }"
    )
    assert objects["objects"]["totalCount"] == 1
    node = objects["objects"]["edges"][0]["node"]
    assert node["name"] == "Rathaus"
    assert {e["node"]["title"] for e in node["tickets"]["edges"]} == {"Flur nicht gewischt", "Fenster streifig"}
    by_filter = await alice.ok(
        "query($o: ID!) { tickets(filter: {objectId: $o}) { totalCount } }", {"o": gid("SiteObject", world.b1.id)}
    )
    assert by_filter["tickets"]["totalCount"] == 0
    by_type = await alice.ok(
        "query($t: ID!) { tickets(filter: {ticketTypeId: $t}) { totalCount } }",
        {"t": gid("TicketType", world.damage.id)},
    )
    assert by_type["tickets"]["totalCount"] == 0
    foreign_object = await alice.ok("query($id: ID!) { node(id: $id) { id } }", {"id": gid("SiteObject", world.b1.id)})
    assert foreign_object["node"] is None


async def test_foreign_ids_in_mutations_are_not_found_and_change_nothing(world, tickets):
    alice = world.as_(world.alice)
    foreign = gid("Ticket", tickets["carl_b1"].id)
    not_enabled = gid("Ticket", tickets["staff_a1_damage"].id)
    comments_before = await Comment.all().count()
    for ticket_id in (foreign, not_enabled):
        body = await alice(
            'mutation($t: ID!) { addComment(input: {ticketId: $t, body: "hallo"}) { id } }', {"t": ticket_id}
        )
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    create = (
        """mutation($o: ID!, $t: ID!) { createTicket(input: {objectId: $o, ticketTypeId: $t, title: "x"}) { id } }"""
    )
    tickets_before = await Ticket.all().count()
    cases = [
        (world.b1, world.defect, "objectId"),
        (world.a2, world.defect, "objectId"),
        (world.a1, world.damage, "ticketTypeId"),
        (world.a1, world.vacation, "ticketTypeId"),
    ]
    for site, kind, field in cases:
        body = await alice(create, {"o": gid("SiteObject", site.id), "t": gid("TicketType", kind.id)})
        assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": field}
    assert await Ticket.all().count() == tickets_before
    assert await Comment.all().count() == comments_before


async def test_customer_user_creates_a_portal_ticket_without_assignee(world, tickets):
    alice = world.as_(world.alice)
    create = """mutation($input: CreateTicketInput!) { createTicket(input: $input) {
        number title source status createdBy { name } object { name } ticketType { name }
        viewerCan { comment attach edit changeStatus assign } } }"""
    data = await alice.ok(
        create,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Toilette verstopft",
                "description": "2. OG",
            }
        },
    )
    ticket = data["createTicket"]
    assert ticket["source"] == "PORTAL" and ticket["status"] == "OPEN"
    assert ticket["createdBy"] == {"name": "Alice"}
    assert ticket["viewerCan"] == {
        "comment": True,
        "attach": True,
        "edit": False,
        "changeStatus": False,
        "assign": False,
    }
    refused = await alice(
        create,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Mit Bearbeiter",
                "assigneeId": gid("Employee", world.staff.pk),
            }
        },
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not await Ticket.filter(title="Mit Bearbeiter").exists()


async def test_customer_user_never_changes_status_or_assignee(world, tickets):
    alice = world.as_(world.alice)
    ticket_id = gid("Ticket", tickets["alice_a1"].id)
    status = await alice("mutation($id: ID!) { setTicketStatus(id: $id, status: DONE) { status } }", {"id": ticket_id})
    assert status["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assign = await alice("mutation($id: ID!) { assignTicket(id: $id, assigneeId: null) { id } }", {"id": ticket_id})
    assert assign["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    update = await alice(
        'mutation($id: ID!) { updateTicket(input: {id: $id, title: "neu"}) { id } }', {"id": ticket_id}
    )
    assert update["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    ticket = await Ticket.get(id=tickets["alice_a1"].id)
    assert ticket.status.value == "OPEN" and ticket.title == "Flur nicht gewischt"


async def test_internal_comments_never_reach_customer_users(world, tickets):
    alice = world.as_(world.alice)
    ticket_id = gid("Ticket", tickets["alice_a1"].id)
    data = await alice.ok(
        """query($id: ID!) { node(id: $id) { ... on Ticket {
        commentCount comments { totalCount edges { node { id body } } } } } }""",
        {"id": ticket_id},
    )
    ticket = data["node"]
    assert ticket["commentCount"] == 1 and ticket["comments"]["totalCount"] == 1
    assert [e["node"]["body"] for e in ticket["comments"]["edges"]] == ["Wir kümmern uns darum."]
    internal = await Comment.get(internal=True)
    by_node = await alice.ok("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Comment", internal.id)})
    assert by_node["node"] is None
    edit = await alice(
        'mutation($id: ID!) { editComment(input: {id: $id, body: "x"}) { id } }', {"id": gid("Comment", internal.id)}
    )
    assert edit["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    asked = await alice(
        """query($id: ID!) { node(id: $id) { ... on Ticket { comments { edges { node { internal } } } } } }""",
        {"id": ticket_id},
    )
    assert asked["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    history = await alice("query($id: ID!) { node(id: $id) { ... on Ticket { history { kind } } } }", {"id": ticket_id})
    assert history["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own_internal = await alice(
        'mutation($t: ID!) { addComment(input: {ticketId: $t, body: "x", internal: true}) { id } }', {"t": ticket_id}
    )
    assert own_internal["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    staff = await world.as_(world.staff).ok(
        """query($id: ID!) { node(id: $id) { ... on Ticket {
        comments { edges { node { body internal } } } } } }""",
        {"id": ticket_id},
    )
    assert len(staff["node"]["comments"]["edges"]) == 2


async def test_customer_users_see_employee_names_only(world, tickets):
    alice = world.as_(world.alice)
    ticket_id = gid("Ticket", tickets["staff_a1_defect"].id)
    data = await alice.ok(
        "query($id: ID!) { node(id: $id) { ... on Ticket { assignee { name } } } }", {"id": ticket_id}
    )
    assert data["node"]["assignee"] == {"name": "Jonas Weber"}
    for field in ("email", "groups { name }", "isSystemAdmin"):
        body = await alice(
            f"query($id: ID!) {{ node(id: $id) {{ ... on Ticket {{ assignee {{ {field} }} }} }} }}", {"id": ticket_id}
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", field


async def test_comment_edit_by_another_customer_user_is_refused(world, tickets, settings):
    ticket = tickets["alice_a1"]
    own = await make_comment(ticket, world.alice, "Danke!")
    # Bob cannot see this ticket at all; a second user of the same object can see but not edit.
    second = await make_customer_user(settings, world.a, objects=[world.a1], name="Dora")
    edit = 'mutation($id: ID!) { editComment(input: {id: $id, body: "geändert"}) { body editedAt } }'
    assert await world.as_(second).error_code(edit, {"id": gid("Comment", own.id)}) == "FORBIDDEN"
    assert await world.as_(world.bob).error_code(edit, {"id": gid("Comment", own.id)}) == "NOT_FOUND"
    delete = "mutation($id: ID!) { deleteComment(id: $id) }"
    assert await world.as_(second).error_code(delete, {"id": gid("Comment", own.id)}) == "FORBIDDEN"
    assert (await Comment.get(id=own.id)).body == "Danke!"
    edited = await world.as_(world.alice).ok(edit, {"id": gid("Comment", own.id)})
    assert edited["editComment"]["body"] == "geändert" and edited["editComment"]["editedAt"]


async def test_status_assignment_and_history_for_employees(world, tickets):
    staff = world.as_(world.staff)
    ticket_id = gid("Ticket", tickets["alice_a1"].id)
    await staff.ok(
        "mutation($id: ID!, $a: ID!) { assignTicket(id: $id, assigneeId: $a) { id } }",
        {"id": ticket_id, "a": gid("Employee", world.staff.pk)},
    )
    await staff.ok("mutation($id: ID!) { setTicketStatus(id: $id, status: IN_PROGRESS) { id } }", {"id": ticket_id})
    done = await staff.ok(
        "mutation($id: ID!) { setTicketStatus(id: $id, status: DONE) { status doneAt } }", {"id": ticket_id}
    )
    assert done["setTicketStatus"]["doneAt"]
    history = await staff.ok(
        "query($id: ID!) { node(id: $id) { ... on Ticket { history { kind fromValue toValue actor { name } } } } }",
        {"id": ticket_id},
    )
    kinds = [(h["kind"], h["fromValue"], h["toValue"]) for h in history["node"]["history"]]
    assert ("STATUS_CHANGED", "OPEN", "IN_PROGRESS") in kinds
    assert ("STATUS_CHANGED", "IN_PROGRESS", "DONE") in kinds
    assert kinds[0][0] == "CREATED"
    assert await TicketEvent.filter(ticket_id=tickets["alice_a1"].id, kind="ASSIGNEE_CHANGED").count() == 1


async def test_ticket_numbers_are_sequential(world, tickets):
    numbers = sorted(t.number for t in await Ticket.all())
    assert numbers == list(range(1, len(numbers) + 1))


async def test_import_is_all_or_nothing_and_skips_known_refs(world, tickets):
    admin = world.as_(world.admin)
    mutation = """mutation($t: [ImportTicketInput!]!) { importTickets(tickets: $t) { importedCount skippedCount } }"""
    base = {"objectId": gid("SiteObject", world.a1.id), "ticketTypeId": gid("TicketType", world.defect.id)}
    good = [
        {
            **base,
            "title": "Alt 1",
            "externalRef": "L-1",
            "status": "DONE",
            "createdAt": "2026-01-01T08:00:00+00:00",
            "doneAt": "2026-01-03T09:00:00+00:00",
        },
        {**base, "title": "Alt 2", "externalRef": "L-2"},
    ]
    assert (await admin.ok(mutation, {"t": good}))["importTickets"] == {"importedCount": 2, "skippedCount": 0}
    bad = [
        {**base, "title": "Alt 3", "externalRef": "L-3"},
        {**base, "title": "Alt 4", "externalRef": "L-4", "objectId": gid("SiteObject", 99999)},
    ]
    body = await admin(mutation, {"t": bad})
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "tickets.1.objectId"}
    assert not await Ticket.filter(external_ref="L-3").exists()
    again = await admin.ok(mutation, {"t": good + [{**base, "title": "Alt 3", "externalRef": "L-3"}]})
    assert again["importTickets"] == {"importedCount": 1, "skippedCount": 2}
    imported = await Ticket.get(external_ref="L-1")
    assert imported.source.value == "IMPORT" and imported.done_at.day == 3
    assert await world.as_(world.alice).error_code(mutation, {"t": good}) == "FORBIDDEN"


async def test_portal_configuration_needs_admin_with_manage_insight(world, tickets, settings):
    plain_admin = await make_employee(settings, admin=True)
    mutation = 'mutation { createCustomer(input: {name: "Neu"}) { id } }'
    assert await world.as_(plain_admin).error_code(mutation) == "FORBIDDEN"
    assert await world.as_(world.alice).error_code(mutation) == "FORBIDDEN"
    created = await world.as_(world.admin).ok(mutation)
    assert created["createCustomer"]["id"]


async def test_customer_user_objects_only_of_own_customer_and_no_absence_types(world, tickets):
    admin = world.as_(world.admin)
    assign = "mutation($u: ID!, $o: [ID!]!) { setCustomerUserObjects(customerUserId: $u, objectIds: $o) { id } }"
    body = await admin(assign, {"u": gid("CustomerUser", world.alice.pk), "o": [gid("SiteObject", world.b1.id)]})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "objectIds"}
    assert await CustomerUserObject.filter(customer_user_id=world.alice.pk).count() == 1
    types = "mutation($c: ID!, $t: [ID!]!) { setCustomerTicketTypes(customerId: $c, ticketTypeIds: $t) { id } }"
    customer = await Customer.get(name="Stadtwerke")
    body = await admin(types, {"c": gid("Customer", customer.id), "t": [gid("TicketType", world.vacation.id)]})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "ticketTypeIds"}
    assert await CustomerTicketType.filter(customer_id=customer.id).count() == 1


async def test_first_is_capped_and_paging_works(world, tickets):
    staff = world.as_(world.staff)
    assert await staff.error_code("{ tickets(first: 101) { totalCount } }") == "BAD_USER_INPUT"
    page = await staff.ok(
        "{ tickets(first: 2, orderBy: NUMBER, descending: false) {"
        " totalCount pageInfo { hasNextPage endCursor } edges { node { number } } } }"
    )
    assert [e["node"]["number"] for e in page["tickets"]["edges"]] == [1, 2]
    nxt = await staff.ok(
        "query($a: String!) { tickets(first: 2, after: $a, orderBy: NUMBER, descending: false) {"
        " edges { node { number } } } }",
        {"a": page["tickets"]["pageInfo"]["endCursor"]},
    )
    assert [e["node"]["number"] for e in nxt["tickets"]["edges"]] == [3, 4]


async def test_search_filter(world, tickets):
    staff = world.as_(world.staff)
    data = await staff.ok('{ tickets(filter: {search: "fenster"}) { edges { node { title } } } }')
    assert [e["node"]["title"] for e in data["tickets"]["edges"]] == ["Fenster streifig"]


async def test_customer_user_cannot_reach_other_accounts_or_staff_groups_by_node(world, tickets, settings):
    alice = world.as_(world.alice)
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert (await alice.ok(query, {"id": gid("CustomerUser", world.bob.pk)}))["node"] is None
    assert (await alice.ok(query, {"id": gid("CustomerUser", world.carl.pk)}))["node"] is None
    assert (await alice.ok(query, {"id": gid("CustomerUser", world.alice.pk)}))["node"]
    group = await make_employee(settings, permissions=(Permission.MANAGE_INSIGHT,))
    groups = await world.as_(group).ok("{ me { ... on Employee { groups { id } } } }")
    group_id = groups["me"]["groups"][0]["id"]
    assert (await alice.ok(query, {"id": group_id}))["node"] is None
    assert (await world.as_(world.staff).ok(query, {"id": group_id}))["node"] == {"id": group_id}


async def test_import_refuses_an_overlong_description_by_its_path(world, tickets):
    admin = world.as_(world.admin)
    mutation = """mutation($t: [ImportTicketInput!]!) { importTickets(tickets: $t) { importedCount } }"""
    base = {"objectId": gid("SiteObject", world.a1.id), "ticketTypeId": gid("TicketType", world.defect.id)}
    body = await admin(
        mutation,
        {
            "t": [
                {**base, "title": "ok", "externalRef": "D-1"},
                {**base, "title": "lang", "externalRef": "D-2", "description": "x" * 20_001},
            ]
        },
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "tickets.1.description"}
    assert not await Ticket.filter(external_ref="D-1").exists()
