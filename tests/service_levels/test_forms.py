"""A form's CREATE_TICKET element gives its ticket a priority; the filler chooses one only where allowed."""

from __future__ import annotations

from models.tickets import Ticket
from tests.forms import conftest as forms
from tests.forms.conftest import SUBMIT, create_template, inspection_elements, submit_input
from tests.service_levels.conftest import make_calendar, make_policy

company = forms.company  # the forms tests' fixture: customer B's inspected site and its people

ANSWERS = [{"key": "room", "number": 1}, {"key": "recleaning", "boolean": True}]


async def test_the_template_sets_the_priority_and_may_let_the_filler_choose(world, gql, company):
    await make_policy(world, await make_calendar(world))
    inspector = gql.as_viewer(company.inspector.token)
    fixed = await create_template(gql, company, inspection_elements(company, priority="HIGH"), name="Fest")
    await inspector.ok(SUBMIT, submit_input(company, fixed, ANSWERS))
    assert [t.priority.value for t in await Ticket.all()] == ["HIGH"]

    refused = await inspector(
        SUBMIT, submit_input(company, fixed, [*ANSWERS, {"key": "ticket", "ticket": {"priority": "URGENT"}}])
    )
    assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "ticket"} | {
        k: v for k, v in refused["errors"][0]["extensions"].items() if k not in ("code", "field")
    }
    assert await Ticket.all().count() == 1  # nothing half-stored

    chosen = await create_template(gql, company, inspection_elements(company, allowPriority=True), name="Wahl")
    await inspector.ok(
        SUBMIT, submit_input(company, chosen, [*ANSWERS, {"key": "ticket", "ticket": {"priority": "URGENT"}}])
    )
    newest = await Ticket.all().order_by("-id").first()
    assert newest.priority.value == "URGENT" and newest.sla_first_response_due_at is not None
