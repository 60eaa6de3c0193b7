"""`person.json`: every record about one person, in a documented and versioned shape.

Format "sitedesk.person-export", version 1 (README, "Data protection", describes each key):

    {"format", "version", "exportedAt",
     "person": {id, type, name, email, locale, isActive, isSystemAdmin?, customer?, objects?, createdAt},
     "notificationSettings": {locale, comments, statusChanges, assignments, newTickets},
     "ticketsCreated": [{id, number, title, description, status, type, object, createdAt, doneAt,
                         rating, feedback, comments: [{id, author, body, createdAt}]}],
     "comments": [{id, ticketNumber, body, internal, createdAt, editedAt}],
     "attachments": [{id, ticketNumber, filename, contentType, size, sha256, createdAt, file}],
     "formSubmissions": [{id, template, templateVersion, object, submittedAt, answers, files}],
     "notifications": [{id, kind, subject, recipientName, recipientEmail, status, createdAt, sentAt,
                        ticketNumber}],
     "ticketHistory": [{ticketNumber, kind, createdAt}],
     "apiTokens": [{id, name, prefix, readOnly, createdAt, expiresAt, lastUsedAt, revokedAt}],
     "auditEvents": [{id, action, role, summary, address, createdAt}]}

Ids are the API's global ids; `file` names the entry in the ZIP holding the bytes. What goes in
is bounded by `permissions/personal_data.py`: a customer user's export has nothing of another
customer, and no internal comment; a ticket's comments are its public ones (a person's own
internal comments appear, for employees, under "comments").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from tortoise.expressions import Q

from core.ids import to_global_id
from models.accounts import Account, AccountKind, CustomerUser, Employee, shown_email
from models.api_tokens import ApiToken
from models.audit import AuditEvent
from models.customers import Customer, CustomerUserObject
from models.forms import FormFile, FormSubmission
from models.notifications import OutboxMail
from models.tickets import Attachment, Comment, Ticket, TicketEvent
from permissions.personal_data import export_related_scope, export_submission_scope, export_ticket_scope

FORMAT = "sitedesk.person-export"
VERSION = 1


@dataclass(frozen=True)
class ExportFile:
    """A stored file to copy into the ZIP at `path`."""

    path: str
    storage_key: str
    date_time: tuple[int, int, int, int, int, int]


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    moment = max(moment.astimezone(UTC), datetime(1980, 1, 1, tzinfo=UTC))
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _safe(name: str) -> str:
    return name.replace("/", "_").replace("\\", "_") or "file"


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(type(value).__name__)


async def person_document(account: Account) -> tuple[bytes, list[ExportFile]]:
    """person.json's bytes and the files that go beside it."""
    employee = await Employee.filter(account_id=account.id).first()
    user = await CustomerUser.filter(account_id=account.id).first()
    customer_id = user.customer_id if user is not None else None
    files: list[ExportFile] = []
    person: dict[str, Any] = {
        "id": to_global_id("Employee", employee.id)
        if employee
        else to_global_id("CustomerUser", user.id if user else 0),
        "type": "Employee" if account.kind is AccountKind.EMPLOYEE else "CustomerUser",
        "name": account.name,
        "email": shown_email(account.email),
        "locale": account.locale,
        "isActive": account.is_active,
        "createdAt": account.created_at,
    }
    if employee is not None:
        person["isSystemAdmin"] = employee.is_system_admin
        person["isServiceAccount"] = account.is_service_account
    if user is not None:
        customer = await Customer.get(id=user.customer_id)
        person["customer"] = {"id": to_global_id("Customer", customer.id), "name": customer.name}
        links = await CustomerUserObject.filter(customer_user_id=user.id, object__customer_id=customer.id).values(
            "object_id", "object__name"
        )
        person["objects"] = [
            {"id": to_global_id("SiteObject", link["object_id"]), "name": link["object__name"]} for link in links
        ]
    document = {
        "format": FORMAT,
        "version": VERSION,
        "exportedAt": datetime.now(UTC),
        "person": person,
        "notificationSettings": {
            "locale": account.locale,
            "comments": account.notify_comments,
            "statusChanges": account.notify_status_changes,
            "assignments": account.notify_assignments,
            "newTickets": account.notify_new_tickets,
        },
        "ticketsCreated": await _tickets(account.id, customer_id),
        "comments": await _comments(account.id, customer_id),
        "attachments": await _attachments(account.id, customer_id, files),
        "formSubmissions": await _submissions(account.id, customer_id, files),
        "notifications": await _notifications(account.id, customer_id),
        "ticketHistory": await _history(account.id, customer_id),
        "apiTokens": await _api_tokens(account.id),
        "auditEvents": await _audit_events(account.id, employee, user),
    }
    return orjson.dumps(document, default=_default, option=orjson.OPT_INDENT_2), files


async def _tickets(account_id: int, customer_id: int | None) -> list[dict[str, Any]]:
    rows = (
        await Ticket.filter(Q(created_by_id=account_id) & export_ticket_scope(customer_id))
        .order_by("created_at", "id")
        .values(
            "id", "number", "title", "description", "status", "ticket_type__name", "object__name",
            "created_at", "done_at", "rating", "feedback",
        )
    )  # fmt: skip
    comments: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    if rows:
        # Only the public comments: internal ones are never part of a ticket's record here.
        for c in (
            await Comment.filter(ticket_id__in=list(comments), internal=False)
            .order_by("created_at", "id")
            .values("id", "ticket_id", "author__name", "body", "created_at")
        ):
            comments[c["ticket_id"]].append(
                {
                    "id": to_global_id("Comment", c["id"]),
                    "author": c["author__name"],
                    "body": c["body"],
                    "createdAt": c["created_at"],
                }
            )
    return [
        {
            "id": to_global_id("Ticket", row["id"]),
            "number": row["number"],
            "title": row["title"],
            "description": row["description"],
            "status": row["status"],
            "type": row["ticket_type__name"],
            "object": row["object__name"],
            "createdAt": row["created_at"],
            "doneAt": row["done_at"],
            "rating": row["rating"],
            "feedback": row["feedback"],
            "comments": comments[row["id"]],
        }
        for row in rows
    ]


async def _comments(account_id: int, customer_id: int | None) -> list[dict[str, Any]]:
    query = Comment.filter(Q(author_id=account_id) & export_related_scope(customer_id))
    if customer_id is not None:
        query = query.filter(internal=False)
    rows = await query.order_by("created_at", "id").values(
        "id", "ticket__number", "body", "internal", "created_at", "edited_at"
    )
    return [
        {
            "id": to_global_id("Comment", row["id"]),
            "ticketNumber": row["ticket__number"],
            "body": row["body"],
            "internal": row["internal"],
            "createdAt": row["created_at"],
            "editedAt": row["edited_at"],
        }
        for row in rows
    ]


async def _attachments(account_id: int, customer_id: int | None, files: list[ExportFile]) -> list[dict[str, Any]]:
    rows = (
        await Attachment.filter(Q(uploaded_by_id=account_id) & export_related_scope(customer_id))
        .order_by("created_at", "id")
        .values("id", "ticket__number", "filename", "content_type", "size", "sha256", "storage_key", "created_at")
    )
    found = []
    for row in rows:
        path = f"files/attachments/{row['id']}-{_safe(row['filename'])}"
        files.append(ExportFile(path, row["storage_key"], _zip_time(row["created_at"])))
        found.append(
            {
                "id": to_global_id("Attachment", row["id"]),
                "ticketNumber": row["ticket__number"],
                "filename": row["filename"],
                "contentType": row["content_type"],
                "size": row["size"],
                "sha256": row["sha256"],
                "createdAt": row["created_at"],
                "file": path,
            }
        )
    return found


async def _submissions(account_id: int, customer_id: int | None, files: list[ExportFile]) -> list[dict[str, Any]]:
    rows = (
        await FormSubmission.filter(Q(submitted_by_id=account_id) & export_submission_scope(customer_id))
        .order_by("submitted_at", "id")
        .values("id", "template__name", "version__version", "object__name", "submitted_at", "answers")
    )
    stored: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    if rows:
        for f in await FormFile.filter(submission_id__in=list(stored)).order_by("id").values(
            "id", "submission_id", "role", "element_key", "filename", "content_type", "size", "storage_key",
            "created_at",
        ):  # fmt: skip
            path = f"files/forms/{f['submission_id']}/{f['id']}-{_safe(f['filename'])}"
            files.append(ExportFile(path, f["storage_key"], _zip_time(f["created_at"])))
            stored[f["submission_id"]].append(
                {
                    "role": f["role"],
                    "elementKey": f["element_key"],
                    "filename": f["filename"],
                    "contentType": f["content_type"],
                    "size": f["size"],
                    "file": path,
                }
            )
    return [
        {
            "id": to_global_id("FormSubmission", row["id"]),
            "template": row["template__name"],
            "templateVersion": row["version__version"],
            "object": row["object__name"],
            "submittedAt": row["submitted_at"],
            "answers": row["answers"],
            "files": stored[row["id"]],
        }
        for row in rows
    ]


async def _notifications(account_id: int, customer_id: int | None) -> list[dict[str, Any]]:
    # Mails to this person were written for their audience when queued: a customer user's never
    # held anything internal (and those about another customer's tickets stay out).
    scope = Q() if customer_id is None else Q(ticket_id=None) | export_related_scope(customer_id)
    rows = (
        await OutboxMail.filter(Q(recipient_id=account_id) & scope)
        .order_by("created_at", "id")
        .values("id", "kind", "subject", "to_name", "to_address", "status", "created_at", "sent_at", "ticket__number")
    )
    return [
        {
            "id": to_global_id("Notification", row["id"]),
            "kind": row["kind"],
            "subject": row["subject"],
            "recipientName": row["to_name"],
            "recipientEmail": row["to_address"],
            "status": row["status"],
            "createdAt": row["created_at"],
            "sentAt": row["sent_at"],
            "ticketNumber": row["ticket__number"],
        }
        for row in rows
    ]


async def _history(account_id: int, customer_id: int | None) -> list[dict[str, Any]]:
    rows = (
        await TicketEvent.filter(Q(actor_id=account_id) & export_related_scope(customer_id))
        .order_by("created_at", "id")
        .values("ticket__number", "kind", "created_at")
    )
    return [{"ticketNumber": r["ticket__number"], "kind": r["kind"], "createdAt": r["created_at"]} for r in rows]


async def _api_tokens(account_id: int) -> list[dict[str, Any]]:
    rows = await ApiToken.filter(account_id=account_id).order_by("id")
    return [
        {
            "id": to_global_id("ApiToken", row.id),
            "name": row.name,
            "prefix": row.prefix,
            "readOnly": row.read_only,
            "createdAt": row.created_at,
            "expiresAt": row.expires_at,
            "lastUsedAt": row.last_used_at,
            "revokedAt": row.revoked_at,
        }
        for row in rows
    ]


async def _audit_events(account_id: int, employee: Employee | None, user: CustomerUser | None) -> list[dict[str, Any]]:
    about = Q(actor_id=account_id)
    if employee is not None:
        about |= Q(subject_type="Employee", subject_id=employee.id)
    if user is not None:
        about |= Q(subject_type="CustomerUser", subject_id=user.id)
    rows = await AuditEvent.filter(about).order_by("created_at", "id")
    return [
        {
            "id": to_global_id("AuditEvent", row.id),
            "action": row.action,
            "role": "actor" if row.actor_id == account_id else "subject",
            "summary": row.summary,
            # The address is the actor's: only theirs is this person's data.
            "address": row.address if row.actor_id == account_id else None,
            "createdAt": row.created_at,
        }
        for row in rows
    ]
