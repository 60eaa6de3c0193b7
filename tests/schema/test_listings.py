"""Every paginated list pages as it is declared: its cursors and its SQL order agree (issue 23).

A list is declared once (`core.keyset.Listing`: name, sort column, direction)
next to its resolver, and its connection field pages it (`schema.relay.paged`).
Here every connection field of the schema must page a declared listing, every
listing must be reachable, and each one is walked through the API on the demo
data (with ties added) in small pages forwards and backwards: both walks hold
the same rows, once each, as many as `totalCount`, in the order a direct query
sorted by the declared column and id gives. A cursor keyed on another column
than the SQL sorts by, or a resolver paging another listing than its field,
skips or repeats rows here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import GraphQLObjectType, get_named_type
from tortoise.functions import Count
from tortoise.models import Model

from core.database import dialect
from core.ids import decode_global_id, to_global_id
from core.keyset import LISTINGS, Listing
from execution.schema import schema
from models.accounts import Account
from models.api_tokens import ApiToken
from models.audit import AuditAction, AuditEvent
from models.customers import Customer, SiteObject
from models.forms import FormSubmission, FormTemplate
from models.notifications import OutboxMail
from models.tickets import Attachment, Comment, Ticket, TicketEvent
from models.webhooks import Webhook, WebhookDelivery, WebhookEvent
from resolvers.tickets.read import TICKET_LISTINGS
from schema.directive import DEFINITION_KEY, object_fields
from schema.relay import listing_of
from schema.tickets.inputs import TicketOrder
from server.demo import ADMIN, seed_demo

PAGE = 3  # small pages: a walk crosses many cursors
CONNECTION = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { %s } }"


def connection_fields() -> list[tuple[str, Any]]:
    """(`Type.field`, Strawberry field) of every field whose type is a connection."""
    found = []
    for graphql_type, name, graphql_field in object_fields(schema):
        if isinstance(graphql_type, GraphQLObjectType) and get_named_type(graphql_field.type).name.endswith(
            "Connection"
        ):
            found.append((f"{graphql_type.name}.{name}", graphql_field.extensions[DEFINITION_KEY]))
    return found


def listings_of(definition: Any) -> set[Listing]:
    chosen = listing_of(definition.base_resolver.wrapped_func)
    if chosen is None:
        return set()
    if isinstance(chosen, Listing):
        return {chosen}
    return {chosen(order_by=order, descending=d) for order in TicketOrder for d in (True, False)}


def test_every_connection_field_pages_a_declared_listing_and_every_listing_is_paged():
    fields = connection_fields()
    assert len(fields) >= 15
    undeclared = [name for name, definition in fields if not listings_of(definition)]
    assert not undeclared, f"connection fields without a listing (schema.relay.paged): {undeclared}"
    paged = set().union(*(listings_of(definition) for _, definition in fields))
    assert paged == set(LISTINGS.values())
    assert set(WALKS) == set(LISTINGS), "a listing without a walk below"


def test_a_listing_name_is_declared_once():
    Listing("comments", "created_at", descending=False)  # the same declaration again: the same listing
    try:
        Listing("comments", "id", descending=True)
    except ValueError as error:
        assert "two listings" in str(error)
    else:
        raise AssertionError("a second listing named `comments` was accepted")


# ---------------------------------------------------------------- walking every listing


def ticket_walk(order: str, descending: bool) -> tuple[str, type[Model], str]:
    # The tickets of one object (`ticket_object`): every ordering, in a few dozen requests.
    # RELEVANCE orders a search: the object's name, which every one of its tickets matches in the
    # same field (one tier), so its declared order is its tie order, newest first.
    if order == "RELEVANCE":
        arguments = "filter: {objectId: $id, search: $search}, orderBy: RELEVANCE"
        query = f"query($id: ID!, $search: String) {{ tickets({arguments}, ARGS) {{ {CONNECTION % 'id'} }} }}"
        return query, Ticket, "object:tickets"
    arguments = f"filter: {{objectId: $id}}, orderBy: {order}, descending: {str(descending).lower()}"
    return f"query($id: ID!) {{ tickets({arguments}, ARGS) {{ {CONNECTION % 'id'} }} }}", Ticket, "object:tickets"


# listing name -> (query with ARGS where the page arguments go, model of its rows, which parent `$id` names)
WALKS: dict[str, tuple[str, type[Model], str]] = {
    **{listing.name: ticket_walk(order, descending) for (order, descending), listing in TICKET_LISTINGS.items()},
    "objects": ("{ objects(ARGS) { %s } }" % (CONNECTION % "id"), SiteObject, "root"),
    "customers": ("{ customers(ARGS) { %s } }" % (CONNECTION % "id"), Customer, "root"),
    "formTemplates": ("{ formTemplatePage(ARGS) { %s } }" % (CONNECTION % "id"), FormTemplate, "root"),
    "formSubmissions": ("{ formSubmissions(ARGS) { %s } }" % (CONNECTION % "id"), FormSubmission, "root"),
    "api_tokens": ("{ apiTokens(ARGS) { %s } }" % (CONNECTION % "id"), ApiToken, "root"),
    "audit_events": ("{ auditEvents(ARGS) { %s } }" % (CONNECTION % "id"), AuditEvent, "root"),
    "webhooks": ("{ webhooks(ARGS) { %s } }" % (CONNECTION % "id"), Webhook, "root"),
    "webhookDeliveries": (
        "query($id: ID!) { webhookDeliveries(webhookId: $id, ARGS) { %s } }" % (CONNECTION % "id"),
        WebhookDelivery,
        "webhook",
    ),
    "notifications": (
        "query($id: ID!) { notifications(ticketId: $id, ARGS) { %s } }" % (CONNECTION % "id"),
        OutboxMail,
        "ticket:notifications",
    ),
    "comments": (
        "query($id: ID!) { node(id: $id) { ... on Ticket { comments(ARGS) { %s } } } }" % (CONNECTION % "id"),
        Comment,
        "ticket:comments",
    ),
    "attachments": (
        "query($id: ID!) { node(id: $id) { ... on Ticket { attachmentPage(ARGS) { %s } } } }" % (CONNECTION % "id"),
        Attachment,
        "ticket:attachments",
    ),
    "history": (
        "query($id: ID!) { node(id: $id) { ... on Ticket { historyPage(ARGS) { %s } } } }"
        % (CONNECTION % "createdAt kind fromValue toValue"),
        TicketEvent,
        "ticket:events",
    ),
    "documents": (
        "query($id: ID!) { node(id: $id) { ... on SiteObject { documentPage(ARGS) { %s } } } }" % (CONNECTION % "id"),
        Attachment,
        "object:documents",
    ),
}


async def add_rows_with_ties(admin: Account) -> None:
    """Rows the demo has none of, and rows sharing a sort value (the id breaks the tie, both ways)."""
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    at = [start, start, start, start + timedelta(hours=1), start + timedelta(hours=1), start + timedelta(hours=2)]
    at += [start + timedelta(hours=3)]
    tokens = [
        await ApiToken.create(account=admin, name=f"Token {i}", token_hash=f"{i:064d}", prefix=f"sd_{i}")
        for i in range(len(at))
    ]
    for token, moment in zip(tokens, at, strict=True):
        await ApiToken.filter(id=token.id).update(created_at=moment)
    for i, moment in enumerate(at):
        hook = await Webhook.create(
            url=f"https://hooks.example/{i}",
            events="TICKET_CREATED",
            account=admin,
            secret="s",
            created_at=moment,
            updated_at=moment,
        )
    for i, moment in enumerate(at * 2):
        await WebhookDelivery.create(
            webhook=hook,
            event=WebhookEvent.TICKET_CREATED,
            message_id=f"m{i}",
            occurred_at=moment,
            next_attempt_at=moment,
            created_at=moment,
        )
    for i, moment in enumerate(at):
        event = await AuditEvent.create(action=AuditAction.API_TOKEN_CREATED, subject_type="ApiToken", summary=f"{i}")
        await AuditEvent.filter(id=event.id).update(created_at=moment)
    for i in range(5):  # more customers than the demo's, each with an object of the same name
        customer = await Customer.create(name=f"Zweigstelle {i}")
        await SiteObject.create(customer=customer, name="Halle", address=f"Ring {i}")
    for _ in range(5):  # form templates of one name
        await FormTemplate.create(name="Checkliste", created_by=admin, created_at=start, updated_at=start)
    # Files at one moment on a ticket whose type publishes every attachment as a document of its object.
    proof = await Ticket.filter(ticket_type__name="Leistungsnachweis").order_by("id").first()
    assert proof is not None
    for i in range(5):
        await Attachment.create(
            ticket=proof,
            uploaded_by=admin,
            filename=f"foto-{i}.png",
            content_type="image/png",
            size=1,
            sha256="0" * 64,
            storage_key=f"tie-{i}",
            created_at=start,
        )
    # Ties among the demo's own rows: tickets created at one moment (some due the same day, some never),
    # comments on one ticket, submissions.
    ticket_ids = await Ticket.filter(object_id=await ticket_object()).order_by("id").values_list("id", flat=True)
    await Ticket.filter(id__in=ticket_ids[:9]).update(created_at=start, updated_at=start)
    await Ticket.filter(id__in=ticket_ids[:4]).update(due_date=start.date())
    await Ticket.filter(id__in=ticket_ids[4:8]).update(due_date=None)
    busiest = await _busiest(Comment, "ticket_id")
    comment_ids = await Comment.filter(ticket_id=busiest).order_by("id").limit(4).values_list("id", flat=True)
    await Comment.filter(id__in=comment_ids).update(created_at=start)
    submission_ids = await FormSubmission.all().order_by("id").limit(4).values_list("id", flat=True)
    await FormSubmission.filter(id__in=submission_ids).update(submitted_at=start)


async def ticket_object() -> int:
    """An object with a dozen tickets or more, the fewest such (its walks stay short)."""
    rows = (
        await Ticket.annotate(n=Count("id")).group_by("object_id").order_by("n", "object_id").values("object_id", "n")
    )
    found = [row["object_id"] for row in rows if row["n"] >= 12]
    assert found, "the demo has no object with a dozen tickets"
    return int(found[0])


async def _busiest(model: type[Model], parent: str, **narrowed: Any) -> int:
    """The parent with the most rows of `model`."""
    rows = (
        await model.filter(**narrowed)
        .annotate(n=Count("id"))
        .group_by(parent)
        .order_by("-n", parent)
        .limit(1)
        .values(parent, "n")
    )
    assert rows and rows[0]["n"] > PAGE, f"the demo has too few {model.__name__} rows per {parent}"
    return int(rows[0][parent])


async def parent_id(kind: str) -> str | None:
    if kind == "root":
        return None
    if kind == "object:tickets":
        return to_global_id("SiteObject", await ticket_object())
    if kind == "webhook":
        return to_global_id("Webhook", await _busiest(WebhookDelivery, "webhook_id"))
    if kind == "ticket:notifications":
        return to_global_id("Ticket", await _busiest(OutboxMail, "ticket_id", ticket_id__isnull=False))
    if kind == "ticket:comments":
        return to_global_id("Ticket", await _busiest(Comment, "ticket_id"))
    if kind == "ticket:attachments":
        return to_global_id("Ticket", await _busiest(Attachment, "ticket_id"))
    if kind == "ticket:events":
        return to_global_id("Ticket", await _busiest(TicketEvent, "ticket_id"))
    assert kind == "object:documents"
    return None  # chosen by the walk: the object whose document page is longest


def connection_in(data: dict[str, Any]) -> dict[str, Any]:
    """The one connection in a response (below `node` for the nested ones)."""
    value = next(iter(data.values()))
    if "edges" not in value:
        value = next(iter(value.values()))
    return value


async def walk(client: Any, query: str, variables: dict[str, Any], backward: bool) -> tuple[list[Any], int]:
    """Every node of a list, a page of `PAGE` at a time, in list order; and its totalCount."""
    nodes: list[Any] = []
    cursor = None
    size, bound = ("last", "before") if backward else ("first", "after")
    arguments = f"{size}: {PAGE}, {bound}: $cursor"
    declared = "$cursor: String" + (", " if "query(" in query else "")
    text = query.replace("ARGS", arguments)
    text = text.replace("query(", f"query({declared}", 1) if "query(" in text else f"query({declared}) {text}"
    total = None
    for _ in range(400):
        page = connection_in(await client.ok(text, {**variables, "cursor": cursor}))
        total = page["totalCount"] if total is None else total
        assert page["totalCount"] == total
        found = [edge["node"] for edge in page["edges"]]
        assert len(found) <= PAGE
        nodes = found + nodes if backward else nodes + found
        more = page["pageInfo"]["hasPreviousPage"] if backward else page["pageInfo"]["hasNextPage"]
        if not more:
            return nodes, total
        cursor = page["pageInfo"]["startCursor"] if backward else page["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


async def declared_order(listing: Listing, model: type[Model], ids: list[int]) -> list[int]:
    """`ids` as a direct query sorted by the listing's column and id gives them (NULLs where the database puts them)."""
    rows = await model.filter(id__in=ids).values("id", listing.column)
    nulls_first = dialect() == "sqlite"

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        value = row[listing.column]
        if value is None:
            return (0 if nulls_first else 2, 0, row["id"])
        return (1, value, row["id"])

    return [row["id"] for row in sorted(rows, key=key, reverse=listing.descending)]


async def test_every_listing_pages_the_same_rows_both_ways_in_its_declared_order(settings, gql):
    await seed_demo(settings)
    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
    token = (await gql.ok(login, {"e": ADMIN[0], "p": ADMIN[1]}))["login"]["accessToken"]
    admin = gql.as_viewer(token)
    await add_rows_with_ties(await Account.get(email=ADMIN[0]))
    walked = []
    for name, (query, model, parent) in WALKS.items():
        listing = LISTINGS[name]
        variables: dict[str, Any] = {}
        found = await parent_id(parent)
        if parent == "object:documents":
            found = await longest_document_page(admin, query)
        if found is not None:
            variables["id"] = found
        if listing.name == "tickets:RELEVANCE":
            variables["search"] = f'"{(await SiteObject.get(id=await ticket_object())).name}"'
        forward, total = await walk(admin, query, variables, backward=False)
        backward, total_back = await walk(admin, query, variables, backward=True)
        assert forward == backward, name
        assert len(forward) == total == total_back, name
        assert total > PAGE, f"{name}: too few rows to cross a cursor ({total})"
        if "id" in forward[0]:
            ids = [decode_global_id(node["id"], "id")[1] for node in forward]
            assert len(set(ids)) == len(ids), f"{name}: a row came twice"
            assert ids == await declared_order(listing, model, ids), f"{name}: not in its declared order"
        else:
            stamps = [node[_camel(listing.column)] for node in forward]
            assert stamps == sorted(stamps, reverse=listing.descending), name
        walked.append(name)
    assert set(walked) == set(LISTINGS)


async def longest_document_page(admin: Any, query: str) -> str:
    counts = []
    for pk in await SiteObject.all().values_list("id", flat=True):
        gid = to_global_id("SiteObject", pk)
        data = await admin.ok(query.replace("ARGS", "first: 0"), {"id": gid})
        counts.append((connection_in(data)["totalCount"], gid))
    count, gid = max(counts)
    assert count > PAGE, "the demo has too few documents on any object"
    return gid


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
