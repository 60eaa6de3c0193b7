"""The workflow of each ticket type: its states, its allowed moves, and the customer's confirmation settings.

A type has states in the three categories of `TicketStatus`, exactly one default per category
(new tickets, `setTicketStatus` and reopening use it). A ticket's `state_id` may be NULL: then
it is in the default state of its `status` (rows inserted without a state); before a default
changes, such tickets are given their state explicitly (`_pin_defaults`), so no ticket moves by
itself. Transitions are optional per type: none means every move is allowed.

System administrators manage all of this (the `@policy` on the mutations); the functions here
take no viewer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from core.errors import BadUserInput, NotFound
from core.ids import to_global_id
from models.tickets import Ticket, TicketState, TicketStatus, TicketTransition, TicketType
from permissions.tickets import visible_ticket_types
from permissions.viewer import Viewer
from resolvers.accounts import check_name

COLOR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_REOPEN_WINDOW_DAYS = 365
MAX_POSITION = 10_000


# ---------------------------------------------------------------- reading


async def states_of(type_ids: list[int], connection: Any = None) -> dict[int, list[TicketState]]:
    """Each type's states, by position (then id)."""
    grouped: dict[int, list[TicketState]] = defaultdict(list)
    query = TicketState.filter(ticket_type_id__in=set(type_ids)).order_by("position", "id")
    for state in await (query.using_db(connection) if connection else query):
        grouped[state.ticket_type_id].append(state)
    return {pk: grouped.get(pk, []) for pk in type_ids}


async def transitions_of(type_ids: list[int], connection: Any = None) -> dict[int, set[tuple[int, int]]]:
    """Each type's allowed moves as (from state id, to state id); empty: every move is allowed."""
    grouped: dict[int, set[tuple[int, int]]] = defaultdict(set)
    query = TicketTransition.filter(ticket_type_id__in=set(type_ids))
    rows = await (query.using_db(connection) if connection else query).values(
        "ticket_type_id", "from_state_id", "to_state_id"
    )
    for row in rows:
        grouped[row["ticket_type_id"]].add((row["from_state_id"], row["to_state_id"]))
    return {pk: grouped.get(pk, set()) for pk in type_ids}


@dataclass(frozen=True)
class Workflow:
    """A ticket's type (with its confirmation settings), the type's states and moves, and the ticket's state."""

    kind: TicketType
    states: list[TicketState]
    transitions: set[tuple[int, int]]
    current: TicketState


async def workflow_of(ticket: Ticket) -> Workflow:
    """One query for the type and its states (whether it restricts moves riding along); the moves only then."""
    type_id = ticket.ticket_type_id
    restricted = Subquery(TicketTransition.filter(ticket_type_id=type_id).limit(1).values("id"))
    states = await (
        TicketState.filter(ticket_type_id=type_id)
        .select_related("ticket_type")
        .annotate(restricted=restricted)
        .order_by("position", "id")
    )
    if not states:
        raise BadUserInput("The ticket type has no states.", field="id")
    transitions = (
        (await transitions_of([type_id]))[type_id] if getattr(states[0], "restricted", None) is not None else set()
    )
    return Workflow(states[0].ticket_type, states, transitions, current_state(states, ticket.state_id, ticket.status))


def default_of(states: list[TicketState], category: TicketStatus) -> TicketState:
    """The type's default state of `category` (the first of the category if none is marked)."""
    in_category = [s for s in states if s.category is category]
    if not in_category:
        raise BadUserInput(f"The ticket type has no state in category {category.value}.", field="status")
    return next((s for s in in_category if s.is_default), in_category[0])


def current_state(states: list[TicketState], state_id: int | None, status: TicketStatus) -> TicketState:
    """The state a ticket is in: its own, or (NULL) the default of its category."""
    if state_id is not None:
        for state in states:
            if state.id == state_id:
                return state
    return default_of(states, status)


def allowed_targets(
    states: list[TicketState], transitions: set[tuple[int, int]], current: TicketState
) -> list[TicketState]:
    """The states a ticket in `current` may move to, by position."""
    if not transitions:
        return [s for s in states if s.id != current.id]
    allowed = {to for source, to in transitions if source == current.id}
    return [s for s in states if s.id in allowed]


def check_move(
    states: list[TicketState], transitions: set[tuple[int, int]], current: TicketState, target: TicketState, field: str
) -> None:
    """BAD_USER_INPUT with `allowedStateIds` (global ids) unless the type allows current → target."""
    targets = allowed_targets(states, transitions, current)
    if target.id not in {s.id for s in targets}:
        raise BadUserInput(
            f"A ticket in state {current.name!r} cannot move to {target.name!r}.",
            field=field,
            allowedStateIds=[str(to_global_id("TicketState", s.id)) for s in targets],
        )


async def find_ticket_state(viewer: Viewer, pk: int) -> TicketState | None:
    """A state of a type the viewer may see (`node(id:)`)."""
    return await TicketState.filter(
        id=pk, ticket_type_id__in=Subquery(visible_ticket_types(viewer).values("id"))
    ).first()


# ---------------------------------------------------------------- checking input


def _name(name: str) -> str:
    return check_name(name, max_length=100)


def _color(color: str | None) -> str | None:
    if color is None or color == "":
        return None
    if not COLOR.fullmatch(color):
        raise BadUserInput("A color is written #RRGGBB.", field="color")
    return color.lower()


def _position(position: int | None) -> int | None:
    if position is not None and not 0 <= position <= MAX_POSITION:
        raise BadUserInput(f"The position must be 0–{MAX_POSITION}.", field="position")
    return position


async def _ticket_type(pk: int, field: str = "ticketTypeId") -> TicketType:
    found = await TicketType.filter(id=pk).first()
    if found is None:
        raise NotFound("No ticket type with this ID.", field=field)
    return found


async def get_state(pk: int, field: str = "id", connection: Any = None) -> TicketState:
    query = TicketState.filter(id=pk)
    found = await (query.using_db(connection) if connection else query).first()
    if found is None:
        raise NotFound("No ticket state with this ID.", field=field)
    return found


async def pin_defaults(connection: Any, type_id: int, category: TicketStatus, state_id: int) -> None:
    """Tickets of the type in the default of `category` by NULL get that state explicitly."""
    await (
        Ticket.filter(ticket_type_id=type_id, status=category, state_id__isnull=True)
        .using_db(connection)
        .update(state_id=state_id)
    )


async def _make_default(connection: Any, state: TicketState) -> None:
    """`state` becomes its category's one default (the old default's tickets keep their state)."""
    old = await TicketState.filter(
        ticket_type_id=state.ticket_type_id, category=state.category, is_default=True
    ).using_db(connection)
    for previous in old:
        if previous.id != state.id:
            await pin_defaults(connection, state.ticket_type_id, state.category, previous.id)
            await TicketState.filter(id=previous.id).using_db(connection).update(is_default=False)
    await TicketState.filter(id=state.id).using_db(connection).update(is_default=True)
    state.is_default = True


# ---------------------------------------------------------------- writing


async def create_ticket_state(
    ticket_type_id: int,
    name: str,
    category: TicketStatus,
    position: int | None = None,
    color: str | None = None,
    is_default: bool = False,
    pauses_service_level: bool = False,
) -> TicketState:
    kind = await _ticket_type(ticket_type_id)
    name, color, position = _name(name), _color(color), _position(position)
    _check_pausing(category, pauses_service_level)
    try:
        async with in_transaction() as connection:
            if position is None:
                last = (
                    await TicketState.filter(ticket_type_id=kind.id).using_db(connection).order_by("-position").first()
                )
                position = last.position + 1 if last else 0
            has_default = await (
                TicketState.filter(ticket_type_id=kind.id, category=category, is_default=True)
                .using_db(connection)
                .exists()
            )
            state = await TicketState.create(
                ticket_type_id=kind.id,
                name=name,
                category=category,
                position=position,
                color=color,
                is_default=not has_default,
                pauses_service_level=pauses_service_level,
                using_db=connection,
            )
            if is_default and has_default:
                await _make_default(connection, state)
    except IntegrityError:
        raise BadUserInput("The ticket type has a state with this name already.", field="name") from None
    return state


async def update_ticket_state(
    state_id: int,
    name: str | None = None,
    position: int | None = None,
    color: str | None = None,
    is_default: bool | None = None,
    pauses_service_level: bool | None = None,
) -> TicketState:
    state = await get_state(state_id)
    changes: dict[str, Any] = {}
    if pauses_service_level is not None:
        _check_pausing(state.category, pauses_service_level)
        changes["pauses_service_level"] = pauses_service_level
    if name is not None:
        changes["name"] = _name(name)
    if position is not None:
        changes["position"] = _position(position)
    if color is not None:
        changes["color"] = _color(color)
    if is_default is False and state.is_default:
        raise BadUserInput(
            "Each category keeps one default state: make another state the default instead.", field="isDefault"
        )
    try:
        async with in_transaction() as connection:
            if changes:
                await TicketState.filter(id=state.id).using_db(connection).update(**changes)
            if is_default and not state.is_default:
                await _make_default(connection, state)
    except IntegrityError:
        raise BadUserInput("The ticket type has a state with this name already.", field="name") from None
    return await TicketState.get(id=state.id)


def _check_pausing(category: TicketStatus, pauses: bool) -> None:
    """A DONE state has no clock to stop."""
    if pauses and category is TicketStatus.DONE:
        raise BadUserInput("A DONE state cannot pause the service level.", field="pausesServiceLevel")


async def set_ticket_type_transitions(ticket_type_id: int, transitions: list[dict[str, int]]) -> TicketType:
    """Replace the type's allowed moves (empty: every move allowed). Both states must be the type's."""
    kind = await _ticket_type(ticket_type_id)
    own = {s.id for s in (await states_of([kind.id]))[kind.id]}
    pairs: set[tuple[int, int]] = set()
    for i, item in enumerate(transitions):
        source, target = item["from_state_id"], item["to_state_id"]
        for value, name in ((source, "fromStateId"), (target, "toStateId")):
            if value not in own:
                raise BadUserInput("Not a state of this ticket type.", field=f"transitions.{i}.{name}")
        if source == target:
            raise BadUserInput("A transition leads to another state.", field=f"transitions.{i}.toStateId")
        pairs.add((source, target))
    async with in_transaction() as connection:
        await TicketTransition.filter(ticket_type_id=kind.id).using_db(connection).delete()
        if pairs:
            await TicketTransition.bulk_create(
                [TicketTransition(ticket_type_id=kind.id, from_state_id=s, to_state_id=t) for s, t in sorted(pairs)],
                using_db=connection,
            )
    return kind


async def update_ticket_type(
    ticket_type_id: int,
    name: str | None = None,
    customer_confirmation: bool | None = None,
    reopen_window_days: int | None = None,
) -> TicketType:
    kind = await _ticket_type(ticket_type_id, field="id")
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = check_name(name, max_length=100)
    if customer_confirmation is not None:
        if customer_confirmation and kind.is_absence_request:
            raise BadUserInput("Absence requests never reach customers.", field="customerConfirmation")
        changes["customer_confirmation"] = customer_confirmation
    if reopen_window_days is not None:
        if not 1 <= reopen_window_days <= MAX_REOPEN_WINDOW_DAYS:
            raise BadUserInput(f"The window must be 1–{MAX_REOPEN_WINDOW_DAYS} days.", field="reopenWindowDays")
        changes["reopen_window_days"] = reopen_window_days
    if changes:
        if "name" in changes and await TicketType.filter(name=changes["name"]).exclude(id=kind.id).exists():
            raise BadUserInput("A ticket type with this name exists already.", field="name")
        try:
            await TicketType.filter(id=kind.id).update(**changes)
        except IntegrityError:
            raise BadUserInput("A ticket type with this name exists already.", field="name") from None
    return await TicketType.get(id=kind.id)


# What the workflow fields of a ticket read (`Ticket.state`, `rating`, `viewerCan.confirmResolution`, …).
WORKFLOW_VALUES = (
    "id",
    "ticket_type_id",
    "status",
    "state_id",
    "done_at",
    "rating",
    "feedback",
    "confirmed_at",
    "reopen_count",
    "ticket_type__customer_confirmation",
    "ticket_type__reopen_window_days",
)


async def workflow_values(viewer: Viewer, ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The workflow columns of tickets the viewer already sees (loaded by key for a whole page)."""
    rows = await Ticket.filter(id__in=set(ticket_ids)).values(*WORKFLOW_VALUES)
    return {row["id"]: row for row in rows}


async def states_by_type(viewer: Viewer, type_ids: list[int]) -> dict[int, list[TicketState]]:
    return await states_of(type_ids)


async def transitions_by_type(viewer: Viewer, type_ids: list[int]) -> dict[int, set[tuple[int, int]]]:
    return await transitions_of(type_ids)
