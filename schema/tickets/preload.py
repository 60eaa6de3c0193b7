"""A ticket page's per-ticket lists and counts, loaded for the whole page when the query selects them.

The fields then answer synchronously: the executor completes the page
without a future per ticket and field. Fields are named by their Strawberry
definitions, and their GraphQL names come from the schema's own name
converter, so renaming a field cannot silently turn preloading off (a
Python rename that misses this module fails at import).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types.field import StrawberryField

from schema.loaders import loader
from schema.relay import Connection, Edge
from schema.tickets.types import Ticket, attachment_nodes


def definition_field(cls: type, python_name: str) -> StrawberryField:
    """The Strawberry field `python_name` of the GraphQL type `cls`."""
    found = cls.__strawberry_definition__.get_field(python_name)  # type: ignore[attr-defined]
    if found is None:
        raise LookupError(f"{cls.__name__} has no field {python_name!r}")
    return found


@dataclass(frozen=True)
class Preload:
    """A `Ticket` field answered from `attribute`, which `load(info)` fills for a whole page."""

    field: StrawberryField
    attribute: str
    load: Callable[[strawberry.Info], DataLoader]

    def __post_init__(self) -> None:
        if self.attribute not in {f.name for f in dataclasses.fields(Ticket)}:
            raise LookupError(f"Ticket has no attribute {self.attribute!r}")


PRELOADS = (
    Preload(
        definition_field(Ticket, "comment_count"),
        "preloaded_comment_count",
        lambda info: loader(info, "visible_comment_count_by_ticket_id"),
    ),
    Preload(definition_field(Ticket, "attachments"), "preloaded_attachments", attachment_nodes),
)

# From a connection to its nodes.
NODE_PATH = (definition_field(Connection, "edges"), definition_field(Edge, "node"))


def graphql_name(info: strawberry.Info, field: StrawberryField) -> str:
    return info.schema.config.name_converter.from_field(field)


def selected_names(selections: list[Any], path: tuple[str, ...]) -> set[str]:
    """Names of the fields selected at `path` below these selections (fragments included)."""
    found: set[str] = set()
    for selection in selections:
        name = getattr(selection, "name", None) if hasattr(selection, "arguments") else None
        if name is None:  # a fragment: same level
            found |= selected_names(selection.selections, path)
        elif not path:
            found.add(name)
        elif name == path[0]:
            found |= selected_names(selection.selections, path[1:])
    return found


async def preload(info: strawberry.Info, page: list[Ticket]) -> None:
    """Fill the `PRELOADS` the connection field being resolved selects on its nodes, through the same loaders."""
    if not page:
        return
    wanted = selected_names(
        [s for f in info.selected_fields for s in f.selections], tuple(graphql_name(info, f) for f in NODE_PATH)
    )
    asked = [p for p in PRELOADS if graphql_name(info, p.field) in wanted]
    pks = [t.pk for t in page]
    results = await asyncio.gather(*(p.load(info).load_many(pks) for p in asked))
    for p, values in zip(asked, results, strict=True):
        for ticket, value in zip(page, values, strict=True):
            setattr(ticket, p.attribute, value)
