"""Per-request DataLoaders: one query per relation per request, whatever the page size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from models.accounts import Account, Employee
from models.customers import Customer, SiteObject
from models.forms import FormFile, FormTemplate, FormTemplateVersion
from models.service_levels import BusinessCalendar, ServiceLevelTerms
from models.tickets import TicketType
from resolvers.customers import responsibles_of
from resolvers.documents import document_pages, document_rules_of, documents_on
from resolvers.evaluations import customer_evaluations, object_evaluations
from resolvers.forms import created_tickets_of, current_versions
from resolvers.tickets import (
    attachments_by_ticket,
    comment_counts,
    comment_pages,
    find_tickets,
    history_by_ticket,
    person_values,
    states_by_type,
    tickets_by_object,
    transitions_by_type,
    workflow_values,
)
from resolvers.tickets.pages import attachment_pages, history_pages


def _rows_by_id(model: type[Model], related: tuple[str, ...] = ()) -> Callable[[list[int]], Awaitable[list[Any]]]:
    async def load(ids: list[int]) -> list[Any]:
        query = model.filter(id__in=set(ids))
        if related:
            query = query.select_related(*related)
        rows = {row.id: row for row in await query}
        return [rows.get(pk) for pk in ids]

    return load


def _rows_grouped_by(
    model: type[Model], column: str, order_by: str
) -> Callable[[list[int]], Awaitable[list[list[Any]]]]:
    """Rows of `model` whose `column` is one of the keys, grouped by it."""

    async def load(keys: list[int]) -> list[list[Any]]:
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in await model.filter(**{f"{column}__in": set(keys)}).order_by(order_by):
            grouped[getattr(row, column)].append(row)
        return [grouped.get(key, []) for key in keys]

    return load


async def _people_by_account(account_ids: list[int]) -> list[tuple[Any, Any] | None]:
    """(account, employee or customer user row) for each account id, in one joined query."""
    found = {}
    for v in await Account.filter(id__in=set(account_ids)).values(*person_values("")):
        account = SimpleNamespace(id=v["id"], name=v["name"], email=v["email"], is_active=v["is_active"])
        if v["employee__id"] is not None:
            row = SimpleNamespace(
                id=v["employee__id"], account_id=v["id"], is_system_admin=v["employee__is_system_admin"]
            )
        elif v["customer_user__id"] is not None:
            row = SimpleNamespace(
                id=v["customer_user__id"], account_id=v["id"], customer_id=v["customer_user__customer_id"]
            )
        else:
            continue
        found[v["id"]] = (account, row)
    return [found.get(pk) for pk in account_ids]


def _by_key(
    fetch: Callable[[Any, list[int]], Awaitable[dict[int, Any]]], viewer: Any, default: Any = None
) -> Callable[[list[int]], Awaitable[list[Any]]]:
    async def load(ids: list[int]) -> list[Any]:
        found = await fetch(viewer, list(set(ids)))
        return [found.get(pk, default) for pk in ids]

    return load


def _by_key_and_period(
    fetch: Callable[[Any, list[int], Any], Awaitable[dict[int, Any]]], viewer: Any
) -> Callable[[list[tuple[int, Any]]], Awaitable[list[Any]]]:
    """Keys are (id, period): one fetch per distinct period (usually one per request)."""

    async def load(keys: list[tuple[int, Any]]) -> list[Any]:
        periods: dict[Any, set[int]] = defaultdict(set)
        for pk, period in keys:
            periods[period].add(pk)
        found = {period: await fetch(viewer, sorted(ids), period) for period, ids in periods.items()}
        return [found[period].get(pk) for pk, period in keys]

    return load


def _pages_by_key(
    fetch: Callable[..., Awaitable[dict[int, Any]]], viewer: Any
) -> Callable[[list[tuple[int, Any]]], Awaitable[list[Any]]]:
    """Keys are (parent id, page arguments): one fetch per distinct arguments, for all parents asking them.

    The arguments are hashable: (`core.keyset.Window`, a tuple of further keyword arguments).
    """

    async def load(keys: list[tuple[int, Any]]) -> list[Any]:
        parents: dict[Any, set[int]] = defaultdict(set)
        for pk, arguments in keys:
            parents[arguments].add(pk)
        found = {}
        for arguments, pks in parents.items():
            window, extra = arguments
            found[arguments] = await fetch(viewer, sorted(pks), window=window, **dict(extra))
        return [found[arguments][pk] for pk, arguments in keys]

    return load


async def _document_rules(viewer: Any, customer_ids: list[int]) -> dict[int, Any]:
    return await document_rules_of(customer_ids)


async def _current_versions(viewer: Any, template_ids: list[int]) -> dict[int, Any]:
    return await current_versions(template_ids)


# Loaders named `visible_…` are scoped to the request's viewer: what they
# return is what the viewer may see. The others (`…_by_id`, `…_by_<key>_id`)
# load rows by key as they are; they serve only fields whose parent the
# viewer already sees (a ticket's type, a comment's author).
LoaderFactory = Callable[[Any], Callable[[list[Any]], Awaitable[list[Any]]]]

LOADERS: dict[str, LoaderFactory] = {
    "site_object_by_id": lambda viewer: _rows_by_id(SiteObject),
    "customer_by_id": lambda viewer: _rows_by_id(Customer),
    "ticket_type_by_id": lambda viewer: _rows_by_id(TicketType),
    "business_calendar_by_id": lambda viewer: _rows_by_id(BusinessCalendar),
    "service_level_terms_by_id": lambda viewer: _rows_by_id(ServiceLevelTerms),
    "employee_by_id": lambda viewer: _rows_by_id(Employee, ("account",)),
    "responsible_employees_by_object_id": lambda viewer: _by_key(responsibles_of, viewer, default=[]),
    "person_by_account_id": lambda viewer: _people_by_account,
    "document_rules_by_customer_id": lambda viewer: _by_key(_document_rules, viewer, default=[]),
    "form_template_by_id": lambda viewer: _rows_by_id(FormTemplate),
    "form_version_by_id": lambda viewer: _rows_by_id(FormTemplateVersion),
    "current_form_version_by_template_id": lambda viewer: _by_key(_current_versions, viewer),
    "form_versions_by_template_id": lambda viewer: _rows_grouped_by(FormTemplateVersion, "template_id", "-version"),
    "form_files_by_submission_id": lambda viewer: _rows_grouped_by(FormFile, "submission_id", "id"),
    "visible_ticket_by_id": lambda viewer: _by_key(find_tickets, viewer),
    "visible_comment_page_by_ticket_id": lambda viewer: _pages_by_key(comment_pages, viewer),
    "visible_ticket_page_by_object_id": lambda viewer: _pages_by_key(tickets_by_object, viewer),
    "visible_history_by_ticket_id": lambda viewer: _by_key(history_by_ticket, viewer, default=[]),
    "visible_comment_count_by_ticket_id": lambda viewer: _by_key(comment_counts, viewer, default=0),
    "visible_attachments_by_ticket_id": lambda viewer: _by_key(attachments_by_ticket, viewer, default=[]),
    "visible_documents_by_object_id": lambda viewer: _by_key(documents_on, viewer, default=[]),
    "visible_evaluation_by_object_id": lambda viewer: _by_key_and_period(object_evaluations, viewer),
    "visible_evaluation_by_customer_id": lambda viewer: _by_key_and_period(customer_evaluations, viewer),
    "visible_created_tickets_by_submission_id": lambda viewer: _by_key(created_tickets_of, viewer, default=[]),
    # The workflow (issue 18): of tickets and types the viewer already sees.
    "ticket_workflow_by_id": lambda viewer: _by_key(workflow_values, viewer),
    "ticket_states_by_type_id": lambda viewer: _by_key(states_by_type, viewer, default=[]),
    "ticket_transitions_by_type_id": lambda viewer: _by_key(transitions_by_type, viewer, default=set()),
    # Pages of the growing lists (issue 15): one windowed statement per distinct page arguments.
    "visible_attachment_page_by_ticket_id": lambda viewer: _pages_by_key(attachment_pages, viewer),
    "visible_history_page_by_ticket_id": lambda viewer: _pages_by_key(history_pages, viewer),
    "visible_document_page_by_object_id": lambda viewer: _pages_by_key(document_pages, viewer),
}


def loader(info: Any, name: str) -> DataLoader:
    """The request's DataLoader `name` (rows are scoped to the request's viewer where it matters)."""
    context = info.context
    return context.loader(name, lambda: DataLoader(LOADERS[name](context.viewer)))
