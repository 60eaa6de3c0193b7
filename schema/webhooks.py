"""Webhooks (system administrators): partner endpoints that receive signed events."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from core.ids import decode_global_id, parse_id, to_global_id
from models.webhooks import Webhook as WebhookRow
from models.webhooks import WebhookDelivery as WebhookDeliveryRow
from models.webhooks import WebhookDeliveryStatus as DeliveryStatusRow
from models.webhooks import WebhookEvent as WebhookEventRow
from permissions.policy import SYSTEM_ADMINS
from resolvers import webhooks
from resolvers.webhooks import WEBHOOK_DELIVERIES, WEBHOOKS
from schema.accounts import Person
from schema.directive import field, mutation, type_policy
from schema.inputs import WebhookId, decoded
from schema.relay import (
    Connection,
    Node,
    Paging,
    connection,
    paged,
)
from schema.tickets.types import person
from webhooks.outbox import events_of


@strawberry.enum(description="What a webhook can subscribe to; each delivery's `type`.")
class WebhookEvent(Enum):
    TICKET_CREATED = strawberry.enum_value("TICKET_CREATED", description="A ticket was created (also by a form).")
    TICKET_UPDATED = strawberry.enum_value(
        "TICKET_UPDATED", description="A ticket's title, description or due date changed (one event per field)."
    )
    TICKET_STATUS_CHANGED = strawberry.enum_value("TICKET_STATUS_CHANGED", description="A ticket's status changed.")
    TICKET_ASSIGNED = strawberry.enum_value(
        "TICKET_ASSIGNED", description="A ticket's assignee changed (or was removed)."
    )
    COMMENT_ADDED = strawberry.enum_value(
        "COMMENT_ADDED", description="A comment was written; internal ones only reach employees' webhooks."
    )
    COMMENT_EDITED = strawberry.enum_value("COMMENT_EDITED", description="A comment was changed by its author.")
    ATTACHMENT_ADDED = strawberry.enum_value("ATTACHMENT_ADDED", description="A file was attached to a ticket.")
    ATTACHMENT_REMOVED = strawberry.enum_value(
        "ATTACHMENT_REMOVED", description="An attachment was deleted; `data.attachment` has its id and filename."
    )
    FORM_SUBMITTED = strawberry.enum_value(
        "FORM_SUBMITTED", description="An inspection form was submitted; `data.submission` describes it."
    )


@strawberry.enum(description="Where a webhook delivery is.")
class WebhookDeliveryStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Not tried yet, or sent again on request.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="The endpoint answered with a 2xx status.")
    RETRYING = strawberry.enum_value(
        "RETRYING", description="Failed at least once; tried again at `nextAttemptAt` (back-off over about 3 days)."
    )
    FAILED = strawberry.enum_value(
        "FAILED", description="Given up: every attempt failed, or the endpoint answered 410 Gone."
    )
    SKIPPED = strawberry.enum_value(
        "SKIPPED",
        description="Not sent: the webhook's account may not see what the event is about (any more), "
        "e.g. an internal comment for a customer user's webhook. `lastError` says why.",
    )


@strawberry.type(
    directives=type_policy(SYSTEM_ADMINS),
    description="An endpoint that receives events as signed HTTPS POSTs (Standard Webhooks), "
    "showing only what its account may see.",
)
class Webhook(Node):
    url: str = strawberry.field(description="Where deliveries are POSTed (https).")
    events: list[WebhookEvent] = strawberry.field(description="The events it receives.")
    description: str = strawberry.field(description="What it is for (free text).")
    enabled: bool = strawberry.field(description="False: nothing is sent; deliveries wait until it is enabled.")
    disabled_reason: str | None = strawberry.field(
        description="Why it was disabled: by an administrator, 410 Gone, or failing for days."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    account_id: strawberry.Private[int]

    @field(policy=SYSTEM_ADMINS, description="The account whose view the payloads show.")
    async def account(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.account_id)

    @classmethod
    def from_row(cls, row: WebhookRow) -> Webhook:
        return cls(
            id=to_global_id("Webhook", row.id),
            url=row.url,
            events=[WebhookEvent(e.value) for e in events_of(row.events)],
            description=row.description,
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
            account_id=row.account_id,
        )


@strawberry.type(directives=type_policy(SYSTEM_ADMINS), description="One event sent (or to be sent) to one webhook.")
class WebhookDelivery(Node):
    event: WebhookEvent = strawberry.field(description="The event; the payload's `type`.")
    status: WebhookDeliveryStatus = strawberry.field(description="Where the delivery is.")
    http_status: int | None = strawberry.field(description="The status code of the last answer, if any.")
    attempts: int = strawberry.field(description="How often it was sent so far.")
    duration_ms: int | None = strawberry.field(description="How long the last attempt took, in milliseconds.")
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed or why it was skipped (start of the answer at most)."
    )
    created_at: datetime = strawberry.field(description="When the event happened and the delivery was queued.")
    delivered_at: datetime | None = strawberry.field(description="When the endpoint accepted it.")
    next_attempt_at: datetime | None = strawberry.field(description="When it is tried next (PENDING, RETRYING).")
    message_id: str = strawberry.field(description="The `webhook-id` header: the same on every retry and redelivery.")

    @classmethod
    def from_row(cls, row: WebhookDeliveryRow) -> WebhookDelivery:
        waiting = row.status in (DeliveryStatusRow.PENDING, DeliveryStatusRow.RETRYING)
        return cls(
            id=to_global_id("WebhookDelivery", row.id),
            event=WebhookEvent(row.event.value),
            status=WebhookDeliveryStatus(row.status.value),
            http_status=row.http_status,
            attempts=row.attempts,
            duration_ms=row.duration_ms,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            next_attempt_at=row.next_attempt_at if waiting else None,
            message_id=row.message_id,
        )


@strawberry.type(
    directives=type_policy(SYSTEM_ADMINS), description="A new webhook and its signing secret, shown only now."
)
class CreateWebhookPayload:
    secret: str = strawberry.field(
        description='The signing secret, "whsec_" + base64 of the key bytes (Standard Webhooks). Store it now: '
        "it is never shown again."
    )
    webhook: Webhook = strawberry.field(description="The webhook created.")


@strawberry.input(description="A new webhook.")
class CreateWebhookInput:
    url: str = strawberry.field(
        description="https URL; its host must resolve to public addresses only (checked now and at every delivery)."
    )
    events: list[WebhookEvent] = strawberry.field(description="The events to receive (at least one).")
    account_id: strawberry.ID = strawberry.field(
        description="The Employee or CustomerUser (e.g. a service account) whose view the payloads show."
    )
    description: str | None = strawberry.field(default=None, description="What it is for (free text).")


@strawberry.input(description="Changes to a webhook; fields left out stay as they are.")
class UpdateWebhookInput:
    id: WebhookId = strawberry.field(description="The webhook.")
    url: str | None = strawberry.field(default=None, description="A new URL, checked like at creation.")
    events: list[WebhookEvent] | None = strawberry.field(default=None, description="The new set of events.")
    description: str | None = strawberry.field(default=None, description="A new description.")
    enabled: bool | None = strawberry.field(
        default=None, description="false stops deliveries; true resumes them (held ones are sent)."
    )


def _events(values: list[WebhookEvent] | None) -> list[WebhookEventRow] | None:
    return None if values is None else [WebhookEventRow(v.value) for v in values]


@strawberry.type
class WebhookQueries:
    @field(policy=SYSTEM_ADMINS, description="Every webhook, newest first.")
    @paged(WEBHOOKS)
    async def webhooks(self, info: strawberry.Info, page: Paging) -> Connection[Webhook]:
        rows, total = await webhooks.webhook_page(info.context.viewer, page.window)
        return connection([Webhook.from_row(r) for r in rows], rows, page, total)

    @field(policy=SYSTEM_ADMINS, description="A webhook's deliveries, newest first: status, HTTP code, attempts.")
    @paged(WEBHOOK_DELIVERIES)
    async def webhook_deliveries(
        self,
        info: strawberry.Info,
        webhook_id: Annotated[strawberry.ID, strawberry.argument(description="The webhook whose deliveries to list.")],
        page: Paging,
    ) -> Connection[WebhookDelivery]:
        rows, total = await webhooks.delivery_page(
            info.context.viewer, parse_id(webhook_id, "Webhook", "webhookId"), page.window
        )
        return connection([WebhookDelivery.from_row(r) for r in rows], rows, page, total)


@strawberry.type
class WebhookMutations:
    @mutation(policy=SYSTEM_ADMINS, description="Create a webhook; the answer holds its signing secret, once.")
    async def create_webhook(
        self,
        info: strawberry.Info,
        input: Annotated[
            CreateWebhookInput,
            strawberry.argument(description="The receiver URL, its events and the account whose view it gets."),
        ],
    ) -> CreateWebhookPayload:
        row, secret = await webhooks.create_webhook(
            info.context.viewer,
            info.context.settings,
            url=input.url,
            events=_events(input.events) or [],
            account=decode_global_id(input.account_id, "accountId"),
            description=input.description,
            address=info.context.client_ip,
        )
        return CreateWebhookPayload(secret=secret, webhook=Webhook.from_row(row))

    @mutation(policy=SYSTEM_ADMINS, description="Change a webhook's URL, events, description, or enable/disable it.")
    async def update_webhook(
        self,
        info: strawberry.Info,
        input: Annotated[
            UpdateWebhookInput, strawberry.argument(description="The webhook and what to change; fields left out stay.")
        ],
    ) -> Webhook:
        changes = decoded(input)
        changes["events"] = _events(input.events)
        row = await webhooks.update_webhook(
            info.context.viewer, info.context.settings, address=info.context.client_ip, **changes
        )
        return Webhook.from_row(row)

    @mutation(policy=SYSTEM_ADMINS, description="Delete a webhook and its deliveries; answers its id.")
    async def delete_webhook(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The webhook to delete.")],
    ) -> strawberry.ID:
        await webhooks.delete_webhook(info.context.viewer, parse_id(id, "Webhook", "id"), info.context.client_ip)
        return id

    @mutation(
        policy=SYSTEM_ADMINS,
        description="Send a delivery again now (same webhook-id; the payload is built afresh).",
    )
    async def redeliver_webhook(
        self,
        info: strawberry.Info,
        delivery_id: Annotated[strawberry.ID, strawberry.argument(description="The delivery to send again.")],
    ) -> WebhookDelivery:
        row = await webhooks.redeliver(info.context.viewer, parse_id(delivery_id, "WebhookDelivery", "deliveryId"))
        return WebhookDelivery.from_row(row)
