"""The `Node` interface and Relay connections (global IDs themselves are `core.ids`).

Connection, edge and page-info types only carry structure: they declare an
`ANYONE` type policy because they are reached only through a field that has
its own policy, and the items inside carry theirs.
"""

from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

import strawberry

from core.errors import BadUserInput
from core.ids import MAX_PK
from permissions.policy import ANYONE
from schema.directive import type_policy

T = TypeVar("T")


@strawberry.interface(description="An object with a global ID; `node(id:)` fetches any the viewer may see.")
class Node:
    id: strawberry.ID


@strawberry.type(directives=type_policy(ANYONE))
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(directives=type_policy(ANYONE))
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type(directives=type_policy(ANYONE))
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


def offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def page_window(first: int | None, after: str | None) -> tuple[int, int]:
    """(offset, limit) for `first`/`after`; `first` is capped at 100."""
    if first is None:
        first = DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE_SIZE}.", field="first")
    offset = 0
    if after:
        try:
            kind, _, value = base64.urlsafe_b64decode(after.encode()).decode().partition(":")
            offset = int(value) + 1
        except (binascii.Error, UnicodeError, ValueError):
            raise BadUserInput("Malformed cursor.", field="after") from None
        if kind != "offset" or offset < 1 or offset > MAX_PK:
            raise BadUserInput("Malformed cursor.", field="after")
    return offset, first


def connection(items: list[T], offset: int, first: int, total: int) -> Connection[T]:
    """A connection over one page; `items` may hold one extra row to tell a next page."""
    page = items[:first]
    edges = [Edge(node=item, cursor=offset_cursor(offset + i)) for i, item in enumerate(page)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=offset + len(page) < total,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )
