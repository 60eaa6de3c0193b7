"""Per-request DataLoaders: one query per relation per request, whatever the page size.

Each loader is a typed accessor: `visible_ticket_by_id(info)` is this request's
`DataLoader[int, Ticket | None]`, created on first use and kept in the request's
context (`schema.context.Context.loaders`, keyed by the accessor itself). A
loader shared between requests would serve one viewer's rows to the next.

Loaders named `visible_…` are scoped to the request's viewer: what they
return is what the viewer may see. The others (`…_by_id`, `…_by_<key>_id`)
load rows by key as they are; they serve only fields whose parent the
viewer already sees (a ticket's type, a comment's author).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

import strawberry
from strawberry.dataloader import DataLoader
from tortoise.models import Model

from core.keyset import Window
from models.accounts import Employee
from models.customers import Customer, SiteObject
from models.documents import DocumentRule
from models.forms import FormFile, FormTemplate, FormTemplateVersion
from models.tickets import Ticket, TicketEvent, TicketState, TicketType
from permissions.viewer import Viewer
from resolvers.accounts import permission_groups_by_employee
from resolvers.customers import responsibles_of
from resolvers.documents import Document, document_pages, document_rules_of, documents_on
from resolvers.evaluations import Evaluation, Period, customer_evaluations, object_evaluations
from resolvers.forms import created_tickets_of, current_versions
from resolvers.inbound_mail.administration import bouncing_accounts, intake_keys
from resolvers.people import people_by_account
from resolvers.tickets import (
    attachments_by_ticket,
    comment_counts,
    comment_pages,
    find_tickets,
    history_by_ticket,
    states_by_type,
    tickets_by_object,
    transitions_by_type,
    workflow_values,
)
from resolvers.tickets.pages import attachment_pages, history_pages

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
M = TypeVar("M", bound=Model)
T = TypeVar("T")

# A loader's batch function: a value for each key, in order, or the exception that key's `load` raises.
Batch = Callable[[list[K]], Awaitable[Sequence[V | BaseException]]]
# A row of a values query (`TICKET_ROW.values`, `COMMENT_VALUES`, …): column name → value.
Values = dict[str, Any]
# One page of a growing list: its rows and how many there are in all.
Page = tuple[list[T], int]
# The page arguments of a connection field: the window and further keyword arguments of the
# resolver (sorted (name, value) pairs); hashable, so parents asking the same page share a statement.
PageArguments = tuple[Window, tuple[tuple[str, Any], ...]]
PageKey = tuple[int, PageArguments]


class Loader(Generic[K, V]):
    """One kind of per-request DataLoader; call it with `info` for this request's instance."""

    def __init__(self, batch: Callable[[Viewer], Batch[K, V]]) -> None:
        # `batch(viewer)` is the batch function of one request's loader.
        self.batch = batch

    def __call__(self, info: strawberry.Info[Any, Any]) -> DataLoader[K, V]:
        """This request's loader (rows are scoped to the request's viewer where it matters)."""
        context = info.context
        return cast(DataLoader[K, V], context.loader(self, lambda: DataLoader(self.batch(context.viewer))))


async def _fetch_by_id(model: type[M], related: tuple[str, ...], ids: list[int]) -> list[M | None]:
    query = model.filter(id__in=set(ids))
    if related:
        query = query.select_related(*related)
    rows = {row.pk: row for row in await query}
    return [rows.get(pk) for pk in ids]


def _rows_by_id(model: type[M], related: tuple[str, ...] = ()) -> Batch[int, M | None]:
    """Rows by primary key; None where there is none."""

    async def load(ids: list[int]) -> list[M | None]:
        return await _fetch_by_id(model, related, ids)

    return load


def _required_rows_by_id(model: type[M]) -> Batch[int, M]:
    """Rows a foreign key points to: each must exist (a missing one fails its own `load`, not the batch)."""

    async def load(ids: list[int]) -> list[M | BaseException]:
        rows = await _fetch_by_id(model, (), ids)
        return [
            row if row is not None else LookupError(f"No {model.__name__} {pk}")
            for pk, row in zip(ids, rows, strict=True)
        ]

    return load


def _rows_grouped_by(model: type[M], column: str, order_by: str) -> Batch[int, list[M]]:
    """Rows of `model` whose `column` is one of the keys, grouped by it."""

    async def load(keys: list[int]) -> list[list[M]]:
        grouped: dict[int, list[M]] = defaultdict(list)
        for row in await model.filter(**{f"{column}__in": set(keys)}).order_by(order_by):
            grouped[getattr(row, column)].append(row)
        return [grouped.get(key, []) for key in keys]

    return load


def _by_key(fetch: Callable[[Viewer, list[int]], Awaitable[Mapping[int, V]]], viewer: Viewer) -> Batch[int, V | None]:
    """`fetch(viewer, distinct ids)`, None where it found nothing."""

    async def load(ids: list[int]) -> list[V | None]:
        found = await fetch(viewer, list(set(ids)))
        return [found.get(pk) for pk in ids]

    return load


def _by_key_or(
    fetch: Callable[[Viewer, list[int]], Awaitable[Mapping[int, V]]], viewer: Viewer, default: Callable[[], V]
) -> Batch[int, V]:
    """`fetch(viewer, distinct ids)`, `default()` where it found nothing."""

    async def load(ids: list[int]) -> list[V]:
        found = await fetch(viewer, list(set(ids)))
        return [found[pk] if pk in found else default() for pk in ids]

    return load


def _by_key_and_period(
    fetch: Callable[[Viewer, list[int], Period], Awaitable[Mapping[int, V]]], viewer: Viewer
) -> Batch[tuple[int, Period], V | None]:
    """Keys are (id, period): one fetch per distinct period (usually one per request)."""

    async def load(keys: list[tuple[int, Period]]) -> list[V | None]:
        periods: dict[Period, set[int]] = defaultdict(set)
        for pk, period in keys:
            periods[period].add(pk)
        found = {period: await fetch(viewer, sorted(ids), period) for period, ids in periods.items()}
        return [found[period].get(pk) for pk, period in keys]

    return load


def _pages_by_key(
    fetch: Callable[..., Awaitable[Mapping[int, Page[Values]]]], viewer: Viewer
) -> Batch[PageKey, Page[Values]]:
    """Keys are (parent id, page arguments): one fetch per distinct arguments, for all parents asking them."""

    async def load(keys: list[PageKey]) -> list[Page[Values]]:
        parents: dict[PageArguments, set[int]] = defaultdict(set)
        for pk, arguments in keys:
            parents[arguments].add(pk)
        found = {}
        for arguments, pks in parents.items():
            window, extra = arguments
            found[arguments] = await fetch(viewer, sorted(pks), window=window, **dict(extra))
        return [found[arguments][pk] for pk, arguments in keys]

    return load


async def _document_rules(viewer: Viewer, customer_ids: list[int]) -> Mapping[int, list[DocumentRule]]:
    return await document_rules_of(customer_ids)


async def _current_versions(viewer: Viewer, template_ids: list[int]) -> Mapping[int, FormTemplateVersion]:
    return await current_versions(template_ids)


async def _permission_groups(viewer: Viewer, employee_ids: list[int]) -> Mapping[int, list[Values]]:
    return await permission_groups_by_employee(employee_ids)


async def _intake_keys(viewer: Viewer, object_ids: list[int]) -> Mapping[int, str]:
    return await intake_keys(object_ids)


async def _mail_bouncing(viewer: Viewer, account_ids: list[int]) -> Mapping[int, bool]:
    bouncing = await bouncing_accounts(account_ids)
    return {pk: pk in bouncing for pk in account_ids}


# ---------------------------------------------------------------- rows by key, as they are
# Rows a foreign key of a visible row points to exist (`LookupError` otherwise); the rest may be None.

site_object_by_id: Loader[int, SiteObject] = Loader(lambda viewer: _required_rows_by_id(SiteObject))
customer_by_id: Loader[int, Customer] = Loader(lambda viewer: _required_rows_by_id(Customer))
ticket_type_by_id: Loader[int, TicketType] = Loader(lambda viewer: _required_rows_by_id(TicketType))
employee_by_id: Loader[int, Employee | None] = Loader(lambda viewer: _rows_by_id(Employee, ("account",)))
responsible_employees_by_object_id: Loader[int, list[Employee]] = Loader(
    lambda viewer: _by_key_or(responsibles_of, viewer, list)
)
permission_groups_by_employee_id: Loader[int, list[Values]] = Loader(
    lambda viewer: _by_key_or(_permission_groups, viewer, list)
)
# The email channel (issue 27), for fields whose policy admits employees only: an object's intake
# key (made on first use), whether an account's address is marked as bouncing.
intake_key_by_object_id: Loader[int, str | None] = Loader(lambda viewer: _by_key(_intake_keys, viewer))
mail_bouncing_by_account_id: Loader[int, bool] = Loader(lambda viewer: _by_key_or(_mail_bouncing, viewer, bool))
# (account, employee or customer-user row) of an account id (`resolvers.people.people_by_account`).
person_by_account_id: Loader[int, tuple[Any, Any] | None] = Loader(lambda viewer: people_by_account)
document_rules_by_customer_id: Loader[int, list[DocumentRule]] = Loader(
    lambda viewer: _by_key_or(_document_rules, viewer, list)
)
form_template_by_id: Loader[int, FormTemplate] = Loader(lambda viewer: _required_rows_by_id(FormTemplate))
form_version_by_id: Loader[int, FormTemplateVersion] = Loader(lambda viewer: _required_rows_by_id(FormTemplateVersion))
current_form_version_by_template_id: Loader[int, FormTemplateVersion | None] = Loader(
    lambda viewer: _by_key(_current_versions, viewer)
)
form_versions_by_template_id: Loader[int, list[FormTemplateVersion]] = Loader(
    lambda viewer: _rows_grouped_by(FormTemplateVersion, "template_id", "-version")
)
form_files_by_submission_id: Loader[int, list[FormFile]] = Loader(
    lambda viewer: _rows_grouped_by(FormFile, "submission_id", "id")
)
# The workflow (issue 18): of tickets and types the viewer already sees.
ticket_workflow_by_id: Loader[int, Values | None] = Loader(lambda viewer: _by_key(workflow_values, viewer))
ticket_states_by_type_id: Loader[int, list[TicketState]] = Loader(
    lambda viewer: _by_key_or(states_by_type, viewer, list)
)
ticket_transitions_by_type_id: Loader[int, set[tuple[int, int]]] = Loader(
    lambda viewer: _by_key_or(transitions_by_type, viewer, set)
)

# ---------------------------------------------------------------- scoped to the viewer

visible_ticket_by_id: Loader[int, Ticket | None] = Loader(lambda viewer: _by_key(find_tickets, viewer))
visible_history_by_ticket_id: Loader[int, list[TicketEvent]] = Loader(
    lambda viewer: _by_key_or(history_by_ticket, viewer, list)
)
visible_comment_count_by_ticket_id: Loader[int, int] = Loader(lambda viewer: _by_key_or(comment_counts, viewer, int))
visible_attachments_by_ticket_id: Loader[int, list[Values]] = Loader(
    lambda viewer: _by_key_or(attachments_by_ticket, viewer, list)
)
visible_documents_by_object_id: Loader[int, list[Document]] = Loader(
    lambda viewer: _by_key_or(documents_on, viewer, list)
)
visible_evaluation_by_object_id: Loader[tuple[int, Period], Evaluation | None] = Loader(
    lambda viewer: _by_key_and_period(object_evaluations, viewer)
)
visible_evaluation_by_customer_id: Loader[tuple[int, Period], Evaluation | None] = Loader(
    lambda viewer: _by_key_and_period(customer_evaluations, viewer)
)
visible_created_tickets_by_submission_id: Loader[int, list[Ticket]] = Loader(
    lambda viewer: _by_key_or(created_tickets_of, viewer, list)
)
# Pages of the growing lists (issue 15): one windowed statement per distinct page arguments.
visible_ticket_page_by_object_id: Loader[PageKey, Page[Values]] = Loader(
    lambda viewer: _pages_by_key(tickets_by_object, viewer)
)
visible_comment_page_by_ticket_id: Loader[PageKey, Page[Values]] = Loader(
    lambda viewer: _pages_by_key(comment_pages, viewer)
)
visible_attachment_page_by_ticket_id: Loader[PageKey, Page[Values]] = Loader(
    lambda viewer: _pages_by_key(attachment_pages, viewer)
)
visible_history_page_by_ticket_id: Loader[PageKey, Page[Values]] = Loader(
    lambda viewer: _pages_by_key(history_pages, viewer)
)
visible_document_page_by_object_id: Loader[PageKey, Page[Values]] = Loader(
    lambda viewer: _pages_by_key(document_pages, viewer)
)
