"""Documents per object: the rules a portal admin sets, and the documents they publish."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from core.errors import BadUserInput, NotFound
from core.keyset import Listing, Window
from models.customers import Customer
from models.documents import DocumentRule
from models.tickets import TicketType
from permissions.documents import visible_documents
from permissions.viewer import Viewer
from resolvers.customers import get_customer

MAX_CONTENT_TYPES = 50
# type/subtype as RFC 6838 allows it, or type/* for a whole family.
CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/([a-z0-9][a-z0-9!#$&^_.+-]{0,62}|\*)")


@dataclass(frozen=True)
class Document:
    """A published attachment, with what the document list shows of its ticket."""

    id: int
    filename: str
    content_type: str
    size: int
    created_at: datetime
    ticket_id: int
    ticket_type_id: int
    object_id: int


def check_content_types(values: list[str], field: str) -> list[str]:
    """Lower-cased, de-duplicated content types; a malformed one is `BAD_USER_INPUT`."""
    if len(values) > MAX_CONTENT_TYPES:
        raise BadUserInput(f"At most {MAX_CONTENT_TYPES} content types per rule.", field=field)
    cleaned: list[str] = []
    for value in values:
        normal = value.strip().lower()
        if not CONTENT_TYPE.fullmatch(normal):
            raise BadUserInput(f"Not a content type: {value[:100]!r} (e.g. application/pdf or image/*).", field=field)
        if normal not in cleaned:
            cleaned.append(normal)
    return cleaned


async def set_customer_document_rules(customer_id: int, rules: Sequence[Mapping[str, Any]]) -> Customer:
    """Replace a customer's document rules; absence types refused, nothing stored on any error.

    Each rule has a `ticket_type_id` and `content_types` (None or empty: every attachment).
    """
    customer = await get_customer(customer_id)
    seen: set[int] = set()
    cleaned: list[tuple[int, list[str]]] = []
    for index, rule in enumerate(rules):
        type_id: int = rule["ticket_type_id"]
        if type_id in seen:
            raise BadUserInput("A ticket type appears in two rules.", field=f"rules.{index}.ticketTypeId")
        seen.add(type_id)
        cleaned.append(
            (type_id, check_content_types(list(rule.get("content_types") or []), f"rules.{index}.contentTypes"))
        )
    types = {t.id: t for t in await TicketType.filter(id__in=seen)}
    for index, (type_id, _) in enumerate(cleaned):
        found = types.get(type_id)
        if found is None:
            raise NotFound("No ticket type with this ID.", field=f"rules.{index}.ticketTypeId")
        if found.is_absence_request:
            raise BadUserInput(
                "Absence requests are never published as documents.", field=f"rules.{index}.ticketTypeId"
            )
    async with in_transaction() as connection:
        await DocumentRule.filter(customer_id=customer.id).using_db(connection).delete()
        await DocumentRule.bulk_create(
            [
                DocumentRule(customer_id=customer.id, ticket_type_id=type_id, content_types=content_types)
                for type_id, content_types in cleaned
            ],
            using_db=connection,
        )
    return customer


async def document_rules_of(customer_ids: Iterable[int]) -> dict[int, list[DocumentRule]]:
    """Each customer's rules, by ticket type name."""
    grouped: dict[int, list[DocumentRule]] = defaultdict(list)
    for rule in await (
        DocumentRule.filter(customer_id__in=set(customer_ids))
        .select_related("ticket_type")
        .order_by("ticket_type__name", "id")
    ):
        grouped[rule.customer_id].append(rule)
    return grouped


FIELDS = (
    "id",
    "filename",
    "content_type",
    "size",
    "created_at",
    "ticket_id",
    "ticket__ticket_type_id",
    "ticket__object_id",
)


def _document(row: dict[str, Any]) -> Document:
    return Document(
        id=row["id"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        created_at=row["created_at"],
        ticket_id=row["ticket_id"],
        ticket_type_id=row["ticket__ticket_type_id"],
        object_id=row["ticket__object_id"],
    )


async def documents_on(viewer: Viewer, object_ids: Iterable[int]) -> dict[int, list[Document]]:
    """The documents on each object the viewer may see, newest first (one query for any number)."""
    grouped: dict[int, list[Document]] = defaultdict(list)
    for row in await (
        visible_documents(viewer)
        .filter(ticket__object_id__in=set(object_ids))
        .order_by("-created_at", "-id")
        .values(*FIELDS)
    ):
        grouped[row["ticket__object_id"]].append(_document(row))
    return grouped


async def find_document(viewer: Viewer, attachment_id: int) -> Document | None:
    """One document by its attachment id, if the viewer may see it as a document (`node`)."""
    rows = await visible_documents(viewer).filter(id=attachment_id).values(*FIELDS)
    return _document(rows[0]) if rows else None


DOCUMENTS = Listing("documents", "created_at", descending=True)


async def document_pages(
    viewer: Viewer, object_ids: list[int], window: Window
) -> dict[int, tuple[list[dict[str, Any]], int]]:
    """A page (newest first, `DOCUMENTS`) of the documents on each of `object_ids` the viewer may see, and their count.

    One windowed statement for all objects (`core.keyset.Listing.pages_by_parent`);
    rows are `FIELDS` dicts (`document_from_values` makes them `Document`s).
    """
    scope = visible_documents(viewer).filter(ticket__object_id__in=set(object_ids))
    return await DOCUMENTS.pages_by_parent(scope, "ticket__object_id", object_ids, FIELDS, window)


def document_from_values(row: dict[str, Any]) -> Document:
    return _document(row)
