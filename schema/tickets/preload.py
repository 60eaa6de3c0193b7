"""What a ticket page reads, from what the query selects on its nodes.

- `page_values(info)`: the columns the selected `Ticket` fields read (each
  field declares them, `schema.rows`), so the page query reads only those
  columns and joins only those relations (`selected_values(info)`: the same
  for a single ticket, `node(id:)`). Every `Ticket` field says what it
  reads: a plain attribute its own column, a resolver `metadata=columns(...)`
  (`tests/tickets/test_projection.py` fails on a field that does neither); a
  field selected that does not say makes the page read every column, never
  too few.
- `preload(info, page)`: the per-ticket lists and counts, loaded for the whole
  page when selected. The fields then answer synchronously: the executor
  completes the page without a future per ticket and field.

Fields are named by their Strawberry definitions, and their GraphQL names come
from the schema's own name converter, so renaming a field cannot silently
turn either off (a Python rename that misses this module fails at import).
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

from schema.loaders import visible_comment_count_by_ticket_id
from schema.relay import Connection, Edge
from schema.selection import Tree, at, selection_tree
from schema.tickets.types import TICKET_ROW, Ticket, attachment_nodes


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
        visible_comment_count_by_ticket_id,
    ),
    Preload(definition_field(Ticket, "attachments"), "preloaded_attachments", attachment_nodes),
)

# From a connection to its nodes.
NODE_PATH = (definition_field(Connection, "edges"), definition_field(Edge, "node"))


def nested_fields() -> list[tuple[tuple[StrawberryField, StrawberryField], tuple[str, ...]]]:
    """What sub-fields add below a `Ticket` field (`columns(below=...)`), by Strawberry fields.

    The relation's type is resolved once the schema is built.
    """
    found = []
    for (outer_name, inner_name), values in TICKET_ROW.below.items():
        outer = definition_field(Ticket, outer_name)
        of = outer.type
        of = of.resolve_type() if hasattr(of, "resolve_type") else of
        found.append(((outer, definition_field(of, inner_name)), values))
    return found


def graphql_name(info: strawberry.Info, field: StrawberryField) -> str:
    return info.schema.config.name_converter.from_field(field)


def field_values(field: StrawberryField) -> tuple[str, ...] | None:
    """The columns a `Ticket` field reads (declared with it, `schema.rows`), or None when it does not say."""
    return TICKET_ROW.reads.get(field.python_name)


@dataclass
class Projection:
    """GraphQL field names of `Ticket` to what they read, worked out once per schema."""

    values: dict[str, tuple[str, ...] | None]
    nested: dict[tuple[str, str], tuple[str, ...]]
    node_path: tuple[str, ...]
    cache: dict[frozenset[str] | tuple[Any, ...], tuple[str, ...]]


_projection: list[Projection] = []


def projection(info: strawberry.Info) -> Projection:
    if not _projection:
        fields = Ticket.__strawberry_definition__.fields  # type: ignore[attr-defined]
        _projection.append(
            Projection(
                values={graphql_name(info, f): field_values(f) for f in fields},
                nested={
                    (graphql_name(info, outer), graphql_name(info, inner)): values
                    for (outer, inner), values in nested_fields()
                },
                node_path=tuple(graphql_name(info, f) for f in NODE_PATH),
                cache={},
            )
        )
    return _projection[0]


def page_values(info: strawberry.Info) -> tuple[str, ...]:
    """The columns (`TICKET_ROW.values`) that what the connection field being resolved selects on its nodes reads."""
    return selected_values(info, *projection(info).node_path)


def selected_values(info: strawberry.Info, *path: str) -> tuple[str, ...]:
    """The columns that what the field being resolved selects on a ticket (at `path` below it) reads.

    `node(id:)` selects on the ticket itself (no path); fields of other types' fragments
    merged in make it read every column, never too few.
    """
    known = projection(info)
    wanted = at(selection_tree(info), *path)
    key = tuple((name, frozenset(below)) for name, below in wanted.items())
    found = known.cache.get(key)
    if found is None:
        found = known.cache[key] = _values(known, wanted)
        if len(known.cache) > 1024:
            known.cache.clear()
    return found


def _values(known: Projection, wanted: Tree) -> tuple[str, ...]:
    values: list[str] = []
    for name, below in wanted.items():
        if name == "__typename":
            continue
        read = known.values.get(name)
        if read is None:
            return TICKET_ROW.values  # a field that does not say what it reads: read everything
        values.extend(read)
        for inner in below:
            values.extend(known.nested.get((name, inner), ()))
    return tuple(v for v in TICKET_ROW.values if v in values)


async def preload(info: strawberry.Info, page: list[Ticket]) -> None:
    """Fill the `PRELOADS` the connection field being resolved selects on its nodes, through the same loaders."""
    if not page:
        return
    wanted = at(selection_tree(info), *projection(info).node_path)
    asked = [p for p in PRELOADS if graphql_name(info, p.field) in wanted]
    pks = [t.pk for t in page]
    results = await asyncio.gather(*(p.load(info).load_many(pks) for p in asked))
    for p, values in zip(asked, results, strict=True):
        for ticket, value in zip(page, values, strict=True):
            setattr(ticket, p.attribute, value)
