"""States per ticket type and allowed transitions: who may shape them, and a forbidden move refused."""

from __future__ import annotations

from models.tickets import Ticket, TicketEvent, TicketState, TicketStatus, TicketTransition
from tests.conftest import World
from tests.factories import make_ticket
from tests.workflow.conftest import SET_STATE, SET_STATUS, TICKET, gid

CREATE_STATE = """mutation($input: CreateTicketStateInput!) { createTicketState(input: $input) {
  id name category position isDefault color } }"""
TRANSITIONS = """mutation($type: ID!, $t: [TransitionInput!]!) {
  setTicketTypeTransitions(ticketTypeId: $type, transitions: $t) { id states { name } } }"""
DELETE_STATE = "mutation($id: ID!, $r: ID!) { deleteTicketState(id: $id, replacementId: $r) }"


async def _state(world: World, type_id: int, name: str, category: str) -> str:
    data = await world.as_(world.admin).ok(
        CREATE_STATE, {"input": {"ticketTypeId": gid("TicketType", type_id), "name": name, "category": category}}
    )
    return data["createTicketState"]["id"]


async def test_only_system_administrators_shape_workflows(world: World):
    variables = {"input": {"ticketTypeId": gid("TicketType", world.defect.id), "name": "X", "category": "OPEN"}}
    for person in (world.alice, world.staff, world.petra):
        assert await world.as_(person).error_code(CREATE_STATE, variables) == "FORBIDDEN"
        body = await world.as_(person)(TRANSITIONS, {"type": gid("TicketType", world.defect.id), "t": []})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await TicketState.filter(ticket_type_id=world.defect.id).count() == 3


async def test_customer_users_never_move_a_ticket_between_states(world: World):
    ticket = await make_ticket(world.a1, world.defect, "Flur", by=world.alice)
    state = await TicketState.get(ticket_type_id=world.defect.id, category=TicketStatus.DONE)
    body = await world.as_(world.alice)(SET_STATE, {"id": gid("Ticket", ticket.id), "s": gid("TicketState", state.id)})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await Ticket.get(id=ticket.id)).status is TicketStatus.OPEN


async def test_a_new_type_gets_the_three_defaults(world: World):
    data = await world.as_(world.admin).ok(
        'mutation { createTicketType(input: {name: "Winterdienst"}) { states { name category isDefault } } }'
    )
    assert data["createTicketType"]["states"] == [
        {"name": "Offen", "category": "OPEN", "isDefault": True},
        {"name": "In Bearbeitung", "category": "IN_PROGRESS", "isDefault": True},
        {"name": "Erledigt", "category": "DONE", "isDefault": True},
    ]


async def test_a_transition_rule_refuses_an_illegal_move(world: World):
    kind = world.damage
    states = {s.name: s for s in await TicketState.filter(ticket_type_id=kind.id)}
    offen, dran, fertig = (gid("TicketState", states[n].id) for n in ("Offen", "In Bearbeitung", "Erledigt"))
    beauftragt = await _state(world, kind.id, "Beauftragt", "IN_PROGRESS")
    admin = world.as_(world.admin)
    await admin.ok(
        TRANSITIONS,
        {
            "type": gid("TicketType", kind.id),
            "t": [
                {"fromStateId": offen, "toStateId": beauftragt},
                {"fromStateId": beauftragt, "toStateId": dran},
                {"fromStateId": dran, "toStateId": fertig},
            ],
        },
    )
    ticket = await make_ticket(world.b1, kind, "Tür klemmt", by=world.carl)
    tid = gid("Ticket", ticket.id)
    staff = world.as_(world.staff)

    # Offen → Erledigt is not allowed: by state, and by status alike; nothing changes.
    for query, variables in ((SET_STATE, {"id": tid, "s": fertig}), (SET_STATUS, {"id": tid, "s": "DONE"})):
        body = await staff(query, variables)
        extensions = body["errors"][0]["extensions"]
        assert extensions["code"] == "BAD_USER_INPUT"
        assert extensions["allowedStateIds"] == [beauftragt]
    row = await Ticket.get(id=ticket.id)
    assert (row.status, row.done_at, row.state_id) == (TicketStatus.OPEN, None, None)
    assert (await staff.ok(TICKET, {"id": tid}))["node"]["viewerCan"]["availableStates"] == [{"name": "Beauftragt"}]

    # A state of another type: BAD_USER_INPUT.
    other = await TicketState.get(ticket_type_id=world.defect.id, category=TicketStatus.DONE)
    body = await staff(SET_STATE, {"id": tid, "s": gid("TicketState", other.id)})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "stateId"}

    # The allowed path; status follows the category, doneAt comes with DONE.
    moved = (await staff.ok(SET_STATE, {"id": tid, "s": beauftragt}))["setTicketState"]
    assert (moved["status"], moved["state"]["name"], moved["doneAt"]) == ("IN_PROGRESS", "Beauftragt", None)
    await staff.ok(SET_STATE, {"id": tid, "s": dran})
    done = (await staff.ok(SET_STATUS, {"id": tid, "s": "DONE"}))["setTicketStatus"]
    assert (done["status"], done["state"]["name"]) == ("DONE", "Erledigt") and done["doneAt"] is not None
    # The customer sees the state's name too, and filters by category keep working.
    carl = world.as_(world.carl)
    listed = await carl.ok("{ tickets(filter: {status: DONE}) { edges { node { status state { name } } } } }")
    assert [e["node"] for e in listed["tickets"]["edges"]] == [{"status": "DONE", "state": {"name": "Erledigt"}}]


async def test_deleting_a_state_moves_its_tickets_with_history(world: World):
    kind = world.defect
    eingeplant = await _state(world, kind.id, "Eingeplant", "IN_PROGRESS")
    ticket = await make_ticket(world.a1, kind, "Fenster", by=world.staff)
    staff = world.as_(world.staff)
    await staff.ok(SET_STATE, {"id": gid("Ticket", ticket.id), "s": eingeplant})
    dran = await TicketState.get(ticket_type_id=kind.id, name="In Bearbeitung")
    offen = await TicketState.get(ticket_type_id=kind.id, name="Offen")
    # Refused: a non-admin, a replacement of another type, the state itself.
    assert await staff.error_code(DELETE_STATE, {"id": eingeplant, "r": gid("TicketState", dran.id)}) == "FORBIDDEN"
    other = await TicketState.get(ticket_type_id=world.damage.id, name="Offen")
    admin = world.as_(world.admin)
    assert (
        await admin.error_code(DELETE_STATE, {"id": eingeplant, "r": gid("TicketState", other.id)}) == "BAD_USER_INPUT"
    )
    assert (
        await admin.error_code(DELETE_STATE, {"id": gid("TicketState", offen.id), "r": gid("TicketState", dran.id)})
        == "BAD_USER_INPUT"
    )

    assert (await admin.ok(DELETE_STATE, {"id": eingeplant, "r": gid("TicketState", dran.id)}))[
        "deleteTicketState"
    ] == eingeplant
    row = await Ticket.get(id=ticket.id)
    assert (row.state_id, row.status) == (dran.id, TicketStatus.IN_PROGRESS)
    last = await TicketEvent.filter(ticket_id=ticket.id, kind="STATE_CHANGED").order_by("-id").first()
    assert (last.from_value, last.to_value) == ("Eingeplant", "In Bearbeitung")


async def test_a_customer_user_knows_only_the_states_of_their_enabled_types(world: World):
    query = "query($id: ID!) { node(id: $id) { ... on TicketState { name } } }"
    vacation = await TicketState.get(ticket_type_id=world.vacation.id, category=TicketStatus.OPEN)
    damage = await TicketState.get(ticket_type_id=world.damage.id, category=TicketStatus.OPEN)
    alice, carl = world.as_(world.alice), world.as_(world.carl)
    assert (await alice.ok(query, {"id": gid("TicketState", vacation.id)}))["node"] is None
    assert (await alice.ok(query, {"id": gid("TicketState", damage.id)}))["node"] is None  # Schaden: B's only
    assert (await carl.ok(query, {"id": gid("TicketState", damage.id)}))["node"] == {"name": "Offen"}


async def test_deleting_a_state_hands_its_moves_to_the_replacement_and_opens_none(world: World):
    kind = world.defect
    admin = world.as_(world.admin)
    offen = await TicketState.get(ticket_type_id=kind.id, name="Offen")
    erledigt = await TicketState.get(ticket_type_id=kind.id, name="Erledigt")
    dran = await TicketState.get(ticket_type_id=kind.id, name="In Bearbeitung")
    eingeplant = await _state(world, kind.id, "Eingeplant", "IN_PROGRESS")
    # Offen → Eingeplant → Erledigt is the only way to DONE.
    await admin.ok(
        TRANSITIONS,
        {
            "type": gid("TicketType", kind.id),
            "t": [
                {"fromStateId": gid("TicketState", offen.id), "toStateId": eingeplant},
                {"fromStateId": eingeplant, "toStateId": gid("TicketState", erledigt.id)},
            ],
        },
    )
    await admin.ok(DELETE_STATE, {"id": eingeplant, "r": gid("TicketState", dran.id)})
    moves = set(await TicketTransition.filter(ticket_type_id=kind.id).values_list("from_state_id", "to_state_id"))
    assert moves == {(offen.id, dran.id), (dran.id, erledigt.id)}
    ticket = await make_ticket(world.a1, kind, "Fenster", by=world.staff)
    staff = world.as_(world.staff)
    refused = await staff(SET_STATE, {"id": gid("Ticket", ticket.id), "s": gid("TicketState", erledigt.id)})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # Offen → Erledigt stays forbidden
    assert (await Ticket.get(id=ticket.id)).state_id in (None, offen.id)
