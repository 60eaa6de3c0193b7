"""The hardening tests run on the shared world with three tickets, and may build apps with other settings."""

from __future__ import annotations

import httpx
import pytest

from core.settings import Settings
from models.tickets import Ticket
from server.app import create_app
from tests.conftest import World
from tests.factories import make_comment, make_ticket


@pytest.fixture
async def tickets(world: World) -> dict[str, Ticket]:
    """By title: Alice's and Jonas Weber's on a1, Carl's on b1; each with an internal comment
    by Jonas Weber and a public one by its creator."""
    made = {}
    for person, site, title in (
        (world.alice, world.a1, "Flur nicht gewischt"),
        (world.staff, world.a1, "Fenster streifig"),
        (world.carl, world.b1, "Sandkasten"),
    ):
        ticket = made[title] = await make_ticket(site, world.defect, title, by=person)
        await make_comment(ticket, world.staff, f"Intern zu {title}", internal=True)
        await make_comment(ticket, person, f"Öffentlich zu {title}")
    return made


def app_client(settings: Settings) -> httpx.AsyncClient:
    """An HTTP client for an app built with other settings (same database)."""
    app = create_app(settings, manage_database=False)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)), base_url="http://sitedesk.test"
    )
