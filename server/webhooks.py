"""What a webhook delivery says: built when sent, by the schema itself, as the webhook's account.

This is the one part of webhooks that needs the whole API, so it sits at the top layer: the sender
(`webhooks/sender.py`, beside `mail/`) only knows it is given a `PayloadBuilder`. Each payload is a
fixed GraphQL selection (`node(id:)` of the ticket, comment, attachment or form submission)
executed as the account's `Viewer`, so the scopes (`permissions.*.visible_*`) decide which rows
exist and `@policy` decides field by field — exactly what the account would get from a query. A
field the policy refuses (e.g. `Comment.internal` for a customer user) is left out; a row the
account may not see (an internal comment, another customer's ticket, an absence request) drops the
whole event. Ids are global ids; names are the API's.
"""

from __future__ import annotations

from typing import Any

from core.ids import to_global_id
from core.settings import Settings
from execution.schema import schema
from models.accounts import Account
from models.webhooks import Webhook, WebhookDelivery, WebhookEvent
from permissions.viewer import Viewer, load_viewer
from schema.context import Context
from webhooks.sender import Dropped, PayloadBuilder, WebhookSender

PERSON = "__typename id name"
SELECTIONS = {
    "ticket": (
        "Ticket",
        "id number title description status source createdAt updatedAt doneAt dueDate "
        f"object {{ id name }} ticketType {{ id name }} assignee {{ id name }} createdBy {{ {PERSON} }}",
    ),
    "comment": ("Comment", f"id body createdAt editedAt internal author {{ {PERSON} }}"),
    "attachment": ("Attachment", "id filename contentType size createdAt"),
    "submission": (
        "FormSubmission",
        f"id submittedAt templateVersion template {{ id name }} object {{ id name }} submittedBy {{ {PERSON} }} "
        "answers { key label value kind } createdTickets { id number title }",
    ),
}
# The codes that mean "this viewer may not have that field": the field is left out.
REFUSALS = {"FORBIDDEN", "NOT_FOUND"}


class PayloadError(RuntimeError):
    """Executing the selection failed for another reason than a refusal: the delivery is retried."""


def document(parts: list[str]) -> str:
    variables = ", ".join(f"${part}: ID!" for part in parts)
    fields = " ".join(
        f"{part}: node(id: ${part}) {{ ... on {SELECTIONS[part][0]} {{ {SELECTIONS[part][1]} }} }}" for part in parts
    )
    return f"query WebhookPayload({variables}) {{ {fields} }}"


def _drop_refused(data: dict[str, Any], errors: list[Any]) -> None:
    """Remove each field an error names (the account may not see it) instead of sending it as null."""
    for error in errors:
        code = (error.extensions or {}).get("code")
        if code not in REFUSALS or not error.path:
            raise PayloadError(f"{code}: {error.message}")
        *parents, last = error.path
        holder: Any = data
        for step in parents:
            holder = holder[step] if holder is not None else None
        if isinstance(holder, dict):
            holder.pop(last, None)
        elif isinstance(holder, list) and isinstance(last, int) and last < len(holder):
            holder[last] = None


async def viewer_of(account_id: int) -> Viewer | None:
    versions = await Account.filter(id=account_id, is_active=True).values_list("token_version", flat=True)
    if not versions:
        return None
    return await load_viewer(account_id, int(versions[0]))  # type: ignore[call-overload]


async def payload_data(settings: Settings, webhook: Webhook, delivery: WebhookDelivery) -> dict[str, Any] | Dropped:
    """`data` of the delivery as `webhook.account` sees it now, or why it is dropped."""
    viewer = await viewer_of(webhook.account_id)
    if viewer is None:
        return Dropped("the webhook's account is deactivated")
    ids: dict[str, Any] = {}
    if delivery.ticket_id is not None:
        ids["ticket"] = to_global_id("Ticket", delivery.ticket_id)
    if delivery.comment_id is not None:
        ids["comment"] = to_global_id("Comment", delivery.comment_id)
    if delivery.attachment_id is not None and delivery.event is not WebhookEvent.ATTACHMENT_REMOVED:
        ids["attachment"] = to_global_id("Attachment", delivery.attachment_id)
    if delivery.submission_id is not None:
        ids["submission"] = to_global_id("FormSubmission", delivery.submission_id)
    if not ids:
        return Dropped("the event names nothing to show")
    result = await schema.execute(
        document(list(ids)),
        variable_values=ids,
        context_value=Context(viewer=viewer, settings=settings, request_id=f"webhook-{delivery.message_id}"),
        operation_name="WebhookPayload",
    )
    data: dict[str, Any] = dict(result.data or {})
    if result.errors:
        _drop_refused(data, list(result.errors))
    for part in ids:
        if data.get(part) is None:
            return Dropped(f"the {part} is not visible to the webhook's account (or no longer exists)")
    if delivery.event is WebhookEvent.ATTACHMENT_REMOVED and delivery.attachment_id is not None:
        data["attachment"] = {"id": to_global_id("Attachment", delivery.attachment_id), "filename": delivery.detail}
    return data


def payload_builder(settings: Settings) -> PayloadBuilder:
    async def build(webhook: Webhook, delivery: WebhookDelivery) -> dict[str, Any] | Dropped:
        return await payload_data(settings, webhook, delivery)

    return build


def webhook_sender(settings: Settings) -> WebhookSender:
    """The background sender the server runs (next to the mail sender)."""
    return WebhookSender(settings, payload_builder(settings))
