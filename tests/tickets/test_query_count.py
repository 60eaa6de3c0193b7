"""The number of SQL statements for a page of tickets does not grow with the page."""

from __future__ import annotations

from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
from models.tickets import TicketType
from permissions.viewer import load_viewer
from resolvers.tickets import add_comment, create_ticket
from tests.factories import make_customer_user, make_employee
from tests.statements import count_statements

PAGE = """query($n: Int!) { tickets(first: $n) { totalCount edges { node {
  number title status object { name } ticketType { name } assignee { name } createdBy { name }
  commentCount attachments { filename } } } } }"""


async def test_statements_for_50_tickets_equal_those_for_5(gql, settings):
    customer = await Customer.create(name="Kunde")
    site = await SiteObject.create(customer=customer, name="Haus", address="")
    kind = await TicketType.create(name="Reinigungsmangel")
    await CustomerTicketType.create(customer=customer, ticket_type=kind)
    user = await make_customer_user(settings, customer.id)
    await CustomerUserObject.create(customer_user_id=user.pk, object=site)
    staff = await make_employee(settings)
    staff_viewer = await load_viewer(staff.account.id, 1)
    user_viewer = await load_viewer(user.account.id, 1)
    for i in range(60):
        creator = user_viewer if i % 2 else staff_viewer
        ticket = await create_ticket(
            creator,
            settings,
            object_id=site.id,
            ticket_type_id=kind.id,
            title=f"Ticket {i}",
            assignee_id=staff.pk if creator is staff_viewer else None,
        )
        await add_comment(staff_viewer, ticket.id, "Intern", True)
        await add_comment(user_viewer, ticket.id, "Bitte prüfen", False)

    customer_client = gql.as_viewer(user.token)
    small, small_data = await count_statements(customer_client, PAGE, {"n": 5})
    large, large_data = await count_statements(customer_client, PAGE, {"n": 50})
    assert len(large_data["tickets"]["edges"]) == 50
    assert all(e["node"]["commentCount"] == 1 for e in large_data["tickets"]["edges"])
    print(f"\nSQL statements as customer user: first 5 -> {small}, first 50 -> {large}")
    assert large == small
    staff_small, _ = await count_statements(gql.as_viewer(staff.token), PAGE, {"n": 5})
    staff_large, _ = await count_statements(gql.as_viewer(staff.token), PAGE, {"n": 50})
    print(f"SQL statements as employee: first 5 -> {staff_small}, first 50 -> {staff_large}")
    assert staff_large == staff_small


EMPLOYEE_PAGE = """query($n: Int!) { tickets(first: $n) { edges { node {
  number history { kind actor { name } }
  comments { edges { node { body author { name } ticket { number } } } } } } } }"""


async def test_history_and_comment_tickets_are_batched_too(gql, settings):
    customer = await Customer.create(name="Kunde")
    site = await SiteObject.create(customer=customer, name="Haus", address="")
    kind = await TicketType.create(name="Schaden")
    staff = await make_employee(settings)
    staff_viewer = await load_viewer(staff.account.id, 1)
    for i in range(55):
        ticket = await create_ticket(
            staff_viewer, settings, object_id=site.id, ticket_type_id=kind.id, title=f"Ticket {i}", assignee_id=staff.pk
        )
        await add_comment(staff_viewer, ticket.id, "Erledigt?", False)
    client = gql.as_viewer(staff.token)
    small, _ = await count_statements(client, EMPLOYEE_PAGE, {"n": 5})
    large, data = await count_statements(client, EMPLOYEE_PAGE, {"n": 50})
    first = data["tickets"]["edges"][0]["node"]
    assert [h["kind"] for h in first["history"]][:2] == ["CREATED", "ASSIGNEE_CHANGED"]
    assert first["comments"]["edges"][0]["node"]["ticket"]["number"] == first["number"]
    print(f"\nSQL statements with history and comment tickets: first 5 -> {small}, first 50 -> {large}")
    assert large == small
