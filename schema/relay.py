"""The `Node` interface and Relay connections (global IDs themselves are `core.ids`).

Connection, edge and page-info types only carry structure: they declare an
`ANYONE` type policy because they are reached only through a field that has
its own policy, and the items inside carry theirs.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import inspect
import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry import Info

from core.errors import BadUserInput
from core.ids import MAX_PK, to_global_id
from core.keys import sign, verify_signature
from core.keyset import Key, Listing, Window
from core.settings import Settings
from permissions.policy import ANYONE
from schema.directive import described, type_policy
from schema.rows import columns

T = TypeVar("T")


NODE_ID_DESCRIPTION = (
    "Opaque global ID (e.g. of a Ticket): use it as is, in `node(id:)` and in every argument "
    "naming this object. It stays the same for as long as the object exists."
)


@strawberry.interface(description="An object with a global ID; `node(id:)` fetches any the viewer may see.")
class Node:
    id: strawberry.ID = strawberry.field(description=NODE_ID_DESCRIPTION)


def lazy_id(type_name: str) -> Any:
    """The `id` field of a `Node` type whose objects carry their primary key in `pk`.

    The global ID is encoded when a query selects it, not when the object is
    built: a page of tickets builds objects whose ids nobody asked for.
    """

    def resolve_id(self: Any) -> strawberry.ID:
        return to_global_id(type_name, self.pk)

    return strawberry.field(resolver=resolve_id, name="id", description=NODE_ID_DESCRIPTION, metadata=columns("id"))


@strawberry.type(
    directives=type_policy(ANYONE),
    description="Where a page sits in its list (Relay): whether more items follow or precede, and their cursors.",
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="With `first`: whether more items follow this page. With `last`: whether `before` was given."
    )
    has_previous_page: bool = strawberry.field(
        description="With `last`: whether more items precede this page. With `first`: whether `after` was given."
    )
    # The page's edges: the cursors are signed when a query selects them.
    edges: strawberry.Private[list[Any]]

    @described(
        description="The cursor of the page's first edge (pass as `before` for the page before); null when empty."
    )
    def start_cursor(self) -> str | None:
        return self.edges[0].signed_cursor() if self.edges else None

    @described(description="The cursor of the page's last edge (pass as `after` for the next page); null when empty.")
    def end_cursor(self) -> str | None:
        return self.edges[-1].signed_cursor() if self.edges else None


@strawberry.type(directives=type_policy(ANYONE), description="One item of a page and its cursor (Relay).")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    # What the cursor holds (the row's sort value and id) and how to sign it (`Paging`).
    key: strawberry.Private[Any]
    paging: strawberry.Private[Any]

    @described(
        description="Opaque, signed position of this item in its list and ordering: pass it as `after` or `before`."
    )
    def cursor(self) -> str:
        return self.signed_cursor()

    def signed_cursor(self) -> str:
        return encode_cursor(self.paging.settings, self.paging.listing.name, self.key)


@strawberry.type(
    directives=type_policy(ANYONE),
    description="A page of a list that can grow (Relay connection, keyset pages: rows written between two "
    "requests never make a page repeat or skip one).",
)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The page's items, always in list order.")
    page_info: PageInfo = strawberry.field(description="Whether more pages follow or precede, and their cursors.")
    total_count: int = strawberry.field(
        description="How many items the whole list holds (filters applied), not the page."
    )


MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

# The page arguments of a connection field, described once (Relay: forward with first/after, backward with last/before).
FirstArgument = Annotated[
    int | None,
    strawberry.argument(
        description="Page size reading forward: at most this many items after `after` (0..100, 20 when absent)."
    ),
]
AfterArgument = Annotated[
    str | None,
    strawberry.argument(description="Start after this cursor (an `endCursor` or edge `cursor` of the same list)."),
]
LastArgument = Annotated[
    int | None,
    strawberry.argument(
        description="Page size reading backward: at most this many items before `before` (0..100); not with `first`."
    ),
]
BeforeArgument = Annotated[
    str | None,
    strawberry.argument(description="End before this cursor (a `startCursor` or edge `cursor` of the same list)."),
]


# ---------------------------------------------------------------- cursors
# A cursor is `<payload>.<kid>.<hmac>`: the payload (base64url JSON) names the
# ordering it belongs to and holds the row's sort value and id; the signature
# (`core.keys.sign`) makes any other string a BAD_USER_INPUT, never a query.


def _encode_value(value: Any) -> Any:
    if isinstance(value, list):  # a compound sort value (RELEVANCE: tier and creation time)
        return {"l": [_encode_value(v) for v in value]}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"t"} and isinstance(value["t"], str):
            return datetime.fromisoformat(value["t"])
        if set(value) == {"d"} and isinstance(value["d"], str):
            return date.fromisoformat(value["d"])
        if set(value) == {"l"} and isinstance(value["l"], list) and len(value["l"]) <= 4:
            return [_decode_value(v) for v in value["l"] if not isinstance(v, dict) or "l" not in v]
        raise ValueError("unknown value")
    if value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError("unknown value")


def encode_cursor(settings: Settings, ordering: str, key: Key) -> str:
    value, pk = key
    payload = json.dumps([ordering, _encode_value(value), pk], separators=(",", ":"))
    message = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{message}.{sign(settings, message)}"


def decode_cursor(settings: Settings, ordering: str, cursor: str, field: str) -> Key:
    """The (sort value, id) a cursor of `ordering` holds; BAD_USER_INPUT on `field` for anything else."""
    message, _, signature = cursor.partition(".")
    if not message or not verify_signature(settings, message, signature):
        raise BadUserInput("Malformed cursor.", field=field)
    try:
        kind, value, pk = json.loads(base64.urlsafe_b64decode(message + "=" * (-len(message) % 4)))
        value = _decode_value(value)
    except (binascii.Error, UnicodeError, ValueError, TypeError):
        raise BadUserInput("Malformed cursor.", field=field) from None
    if kind != ordering:
        raise BadUserInput("This cursor belongs to another list or ordering.", field=field)
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk <= MAX_PK:
        raise BadUserInput("Malformed cursor.", field=field)
    return value, pk


@dataclasses.dataclass(frozen=True)
class Paging:
    """A connection's page arguments, checked, with cursors decoded for one listing."""

    window: Window
    listing: Listing
    settings: Settings


def paging(
    info: Any,
    listing: Listing,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> Paging:
    """`first`/`after`/`last`/`before` of a connection over `listing` (whose name the cursors carry)."""
    settings = info.context.settings
    if first is not None and last is not None:
        raise BadUserInput("Give `first` or `last`, not both.", field="last")
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
            raise BadUserInput(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}.", field=name)
    backward = last is not None or (before is not None and first is None)
    size = last if backward else first
    if size is None:
        size = DEFAULT_PAGE_SIZE
    window = Window(
        limit=size,
        backward=backward,
        after=decode_cursor(settings, listing.name, after, "after") if after else None,
        before=decode_cursor(settings, listing.name, before, "before") if before else None,
    )
    return Paging(window, listing, settings)


def connection(items: list[T], rows: list[Any], paging: Paging, total: int) -> Connection[T]:
    """A connection over `items` (built from `rows`, in reading order, one more than the page when another follows).

    A row's cursor holds its key in the paging's listing (`Listing.key`: sort value and id).
    """
    window = paging.window
    more = len(items) > window.limit
    pairs = list(zip(items, rows, strict=True))[: window.limit]
    if window.backward:
        pairs.reverse()
    # Cursors are signed only when selected (`Edge.cursor`, `PageInfo.startCursor`/`endCursor`).
    key = paging.listing.key
    edges = [Edge(node=item, key=key(row), paging=paging) for item, row in pairs]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=window.before is not None if window.backward else more,
            has_previous_page=more if window.backward else window.after is not None,
            edges=edges,
        ),
        total_count=total,
    )


# The page arguments `paged` adds to a connection resolver, in this order, where its `page` parameter is.
PAGE_PARAMETERS = tuple(
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
    for name, annotation in (
        ("first", FirstArgument),
        ("after", AfterArgument),
        ("last", LastArgument),
        ("before", BeforeArgument),
    )
)

ListingChoice = Listing | Callable[..., Listing]
Resolver = TypeVar("Resolver", bound=Callable[..., Awaitable[Any]])


def paged(listing: ListingChoice) -> Callable[[Resolver], Resolver]:
    """A connection resolver taking `page: Paging` gets `first`/`after`/`last`/`before` in its place.

    `listing` is the list's declaration (`core.keyset.Listing`, next to its
    resolver), or a function of the resolver's other arguments choosing one
    (the ticket orderings). The arguments are checked and the cursors decoded
    for that listing before the resolver runs; `connection` then signs the
    cursors of the page's rows for it. The listing stays on the resolver
    (`listing_of`), for the test that walks every listing.
    """

    def decorate(function: Resolver) -> Resolver:
        signature = inspect.signature(function)
        names = list(signature.parameters)
        if "page" not in names:
            raise TypeError(f"{function.__qualname__} has no `page` parameter")
        takes_info = "info" in names
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            if parameter.name == "page":
                parameters.extend(PAGE_PARAMETERS)
                if not takes_info:
                    parameters.append(inspect.Parameter("info", inspect.Parameter.KEYWORD_ONLY, annotation=Info))
            elif parameter.name == "self":
                parameters.append(parameter)
            else:
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        @functools.wraps(function)
        async def resolver(
            *args: Any,
            first: int | None = None,
            after: str | None = None,
            last: int | None = None,
            before: str | None = None,
            **kwargs: Any,
        ) -> Any:
            info = kwargs["info"] if takes_info else kwargs.pop("info")
            if isinstance(listing, Listing):
                chosen = listing
            else:
                chosen = listing(**{name: value for name, value in kwargs.items() if name != "info"})
            page = paging(info, chosen, first, after, last, before)
            return await function(*args, page=page, **kwargs)

        resolver.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        resolver.__annotations__ = {
            **{name: value for name, value in function.__annotations__.items() if name != "page"},
            **{parameter.name: parameter.annotation for parameter in PAGE_PARAMETERS},
        }
        resolver.listing = listing  # type: ignore[attr-defined]
        return resolver  # type: ignore[return-value]

    return decorate


def listing_of(resolver: Any) -> ListingChoice | None:
    """The listing a `paged` resolver pages (a `Listing` or the function choosing one), None for others."""
    return getattr(resolver, "listing", None)
