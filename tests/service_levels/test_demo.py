"""The demo shows service levels at once: calendars, two policies, tickets in every state, the check's entries."""

from __future__ import annotations

from models.tickets import TicketEvent, TicketEventKind
from server.demo import seed_demo
from tests.factories import token_for

SHOWN = """query { tickets(first: 100, orderBy: RESOLUTION_DUE, descending: false) { totalCount edges { node {
  number title priority serviceLevel { policyName firstResponseDueAt firstRespondedAt firstResponseBreached
    resolutionDueAt resolvedAt resolutionBreached pausedSince } } } } }"""


async def test_the_demo_has_tickets_in_every_service_level_state(settings, gql):
    from models.accounts import Account

    await seed_demo(settings)
    admin = await Account.get(email="admin@sitedesk.example")
    policies = await gql.as_viewer(token_for(settings, admin)).ok(
        "{ serviceLevelPolicies { name } businessCalendars { name } }"
    )
    assert {p["name"] for p in policies["serviceLevelPolicies"]} == {"Standard", "Stadtwerke Bereitschaft"}
    assert {c["name"] for c in policies["businessCalendars"]} == {"Werktage NRW", "Rund um die Uhr"}

    portal = await Account.get(email="m.brandt@stadtwerke-musterstadt.example")
    data = (await gql.as_viewer(token_for(settings, portal)).ok(SHOWN))["tickets"]
    levels = {e["node"]["title"]: e["node"]["serviceLevel"] for e in data["edges"]}
    running = levels["Wasser tritt aus der Decke im Archiv"]
    assert not running["firstResponseBreached"] and running["firstRespondedAt"] is None
    assert levels["Rückstau im Keller, Abfluss läuft über"]["firstResponseBreached"]
    assert levels["Glasscheibe im Foyer gesprungen"]["resolutionBreached"]
    assert levels["Tür zum Technikraum klemmt"]["pausedSince"] is not None
    met = levels["Sturmschaden am Fahrradunterstand"]
    assert met["resolvedAt"] and not met["resolutionBreached"] and not met["firstResponseBreached"]
    assert all(level["policyName"] == "Stadtwerke Bereitschaft" for title, level in levels.items() if "Archiv" in title)
    # The check ran once while seeding: the warning and the breaches are in the history.
    kinds = set(
        await TicketEvent.filter(kind__in=[TicketEventKind.SLA_WARNING, TicketEventKind.SLA_BREACHED]).values_list(
            "kind", "from_value"
        )
    )
    assert (TicketEventKind.SLA_WARNING, "FIRST_RESPONSE") in kinds
    assert (TicketEventKind.SLA_BREACHED, "FIRST_RESPONSE") in kinds
    assert (TicketEventKind.SLA_BREACHED, "RESOLUTION") in kinds
    # Tickets without a target come last.
    priorities = [e["node"]["priority"] for e in data["edges"]]
    assert {"LOW", "NORMAL", "HIGH", "URGENT"} >= set(priorities)
