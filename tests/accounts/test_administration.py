"""Staff administration: permission groups, employees, ticket types."""

from __future__ import annotations

from models.accounts import Account, Employee, PermissionGroup
from models.customers import Customer, CustomerTicketType
from models.tickets import TicketType
from tests.factories import make_customer_user, make_employee

CREATE_GROUP = """mutation($input: CreatePermissionGroupInput!) {
  createPermissionGroup(input: $input) { id name permissions } }"""
CREATE_EMPLOYEE = """mutation($input: CreateEmployeeInput!) {
  createEmployee(input: $input) { id name email isSystemAdmin groups { name permissions } } }"""


async def test_admin_creates_group_and_employee(gql, settings):
    admin = gql.as_viewer((await make_employee(settings, admin=True)).token)
    group = await admin.ok(CREATE_GROUP, {"input": {"name": "Insight", "permissions": ["MANAGE_INSIGHT"]}})
    group_id = group["createPermissionGroup"]["id"]
    created = await admin.ok(
        CREATE_EMPLOYEE,
        {
            "input": {
                "email": "New.Person@Example.test",
                "name": "Neue Person",
                "password": "long-enough-pw",
                "groupIds": [group_id],
            }
        },
    )
    assert created["createEmployee"]["email"] == "new.person@example.test"
    assert created["createEmployee"]["groups"] == [{"name": "Insight", "permissions": ["MANAGE_INSIGHT"]}]


async def test_duplicate_email_is_refused_case_insensitively_across_account_kinds(gql, settings):
    admin = gql.as_viewer((await make_employee(settings, admin=True)).token)
    customer = await Customer.create(name="Kunde")
    await make_customer_user(settings, customer.id, email="taken@example.test")
    before = await Account.all().count(), await Employee.all().count()
    body = await admin(
        CREATE_EMPLOYEE, {"input": {"email": "TAKEN@example.test", "name": "X", "password": "long-enough-pw"}}
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "email"}
    assert (await Account.all().count(), await Employee.all().count()) == before


async def test_database_itself_refuses_a_duplicate_or_mixed_case_email(settings):
    import pytest
    from tortoise.exceptions import IntegrityError

    await make_employee(settings, email="unique@example.test")
    with pytest.raises(IntegrityError):
        await Account.create(kind="employee", email="unique@example.test", name="x", password_hash="x")
    with pytest.raises(IntegrityError):
        await Account.create(kind="employee", email="Unique@example.test", name="x", password_hash="x")


async def test_bad_employee_input_stores_nothing(gql, settings):
    admin = gql.as_viewer((await make_employee(settings, admin=True)).token)
    before = await Account.all().count()
    cases = [
        ({"email": "not-an-email", "name": "X", "password": "long-enough-pw"}, "email"),
        ({"email": "a@example.test", "name": "  ", "password": "long-enough-pw"}, "name"),
        ({"email": "a@example.test", "name": "X", "password": "short"}, "password"),
        (
            {
                "email": "a@example.test",
                "name": "X",
                "password": "long-enough-pw",
                "groupIds": ["UGVybWlzc2lvbkdyb3VwOjk5OQ"],
            },
            "groupIds",
        ),
    ]
    for values, field in cases:
        body = await admin(CREATE_EMPLOYEE, {"input": values})
        assert body["errors"][0]["extensions"]["field"] == field, body
    assert await Account.all().count() == before


async def test_non_admin_employee_is_forbidden_and_nothing_is_stored(gql, settings):
    employee = gql.as_viewer((await make_employee(settings)).token)
    code = await employee.error_code(CREATE_GROUP, {"input": {"name": "Sneaky", "permissions": ["MANAGE_INSIGHT"]}})
    assert code == "FORBIDDEN"
    assert not await PermissionGroup.filter(name="Sneaky").exists()


async def test_ticket_types_visible_by_role(gql, settings):
    admin = gql.as_viewer((await make_employee(settings, admin=True)).token)
    mutation = (
        """mutation($input: CreateTicketTypeInput!) { createTicketType(input: $input) { name isAbsenceRequest } }"""
    )
    await admin.ok(mutation, {"input": {"name": "Schaden"}})
    await admin.ok(mutation, {"input": {"name": "Urlaub", "isAbsenceRequest": True}})
    duplicate = await admin(mutation, {"input": {"name": "Schaden"}})
    assert duplicate["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "name"}
    assert await TicketType.all().count() == 2
    listed = await admin.ok("{ ticketTypes { name isAbsenceRequest } }")
    assert listed["ticketTypes"] == [
        {"name": "Schaden", "isAbsenceRequest": False},
        {"name": "Urlaub", "isAbsenceRequest": True},
    ]
    customer = await Customer.create(name="Kunde")
    user = gql.as_viewer((await make_customer_user(settings, customer.id)).token)
    assert (await user.ok("{ ticketTypes { name } }")) == {"ticketTypes": []}
    # Enabled types only, never an absence type, and never the absence flag.
    for ticket_type in await TicketType.all():
        await CustomerTicketType.create(customer=customer, ticket_type=ticket_type)
    assert (await user.ok("{ ticketTypes { name } }")) == {"ticketTypes": [{"name": "Schaden"}]}
    assert await user.error_code("{ ticketTypes { isAbsenceRequest } }") == "FORBIDDEN"
