"""A small world for the hardening tests: two customers, their users, staff, tickets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
from models.tickets import TicketType
from permissions.policy import Permission
from permissions.viewer import load_viewer
from resolvers.tickets import add_comment, create_ticket
from server.app import create_app
from core.settings import Settings
from tests.factories import make_customer_user, make_employee


@dataclass
class World:
    gql: Any
    admin: Any
    staff: Any
    alice: Any  # customer A, object A1
    carl: Any   # customer B, object B1
    a: Customer
    b: Customer
    a1: SiteObject
    b1: SiteObject
    defect: TicketType
    tickets: dict[str, Any] = field(default_factory=dict)

    def as_(self, person: Any) -> Any:
        return self.gql.as_viewer(person.token)


async def viewer_of(person: Any) -> Any:
    return await load_viewer(person.account.id, person.account.token_version)


@pytest.fixture
async def world(gql, settings: Settings) -> World:
    a = await Customer.create(name="Stadtwerke")
    b = await Customer.create(name="Kita")
    a1 = await SiteObject.create(customer=a, name="Rathaus", address="Markt 1")
    b1 = await SiteObject.create(customer=b, name="Kita Nord", address="Nordstr. 3")
    defect = await TicketType.create(name="Reinigungsmangel")
    await CustomerTicketType.create(customer=a, ticket_type=defect)
    await CustomerTicketType.create(customer=b, ticket_type=defect)
    alice = await make_customer_user(settings, a.id, name="Alice")
    carl = await make_customer_user(settings, b.id, name="Carl")
    await CustomerUserObject.create(customer_user_id=alice.pk, object=a1)
    await CustomerUserObject.create(customer_user_id=carl.pk, object=b1)
    admin = await make_employee(settings, admin=True, permissions=tuple(Permission), name="Admin")
    staff = await make_employee(settings, name="Jonas Weber")
    world = World(gql, admin, staff, alice, carl, a, b, a1, b1, defect)
    for person, site, title in ((alice, a1, "Flur nicht gewischt"), (staff, a1, "Fenster streifig"),
                                (carl, b1, "Sandkasten")):
        ticket = await create_ticket(await viewer_of(person), settings,
                                     object_id=site.id, ticket_type_id=defect.id, title=title)
        world.tickets[title] = ticket
        await add_comment(await viewer_of(staff), ticket.id, f"Intern zu {title}", True)
        await add_comment(await viewer_of(person), ticket.id, f"Öffentlich zu {title}", False)
    return world


def app_client(settings: Settings) -> httpx.AsyncClient:
    """An HTTP client for an app built with other settings (same database)."""
    app = create_app(settings, manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
                             base_url="http://sitedesk.test")
