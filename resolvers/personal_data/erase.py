"""Erasure (GDPR Art. 17): a person anonymised everywhere, for good.

The account stays (tickets, comments, files and form submissions keep pointing at it: the
company's business record) but nothing in it names the person any more: the name becomes
"Gelöschte Person <n>" (n: the account's number), the email a placeholder the API shows as null,
the password goes, every session, refresh and API token is revoked, notification settings are
dropped and the account is deactivated, so no further mail is queued; pending mails to it are
given up. Past notifications lose the recipient's name and address, audit events the name and
address in their summaries and actor names (the ids stay). Exports of the person are removed.
Personal data in what others wrote (a comment naming them) is the business record and stays.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from core.errors import BadUserInput
from core.settings import Settings
from models.accounts import (
    ERASED_EMAIL_DOMAIN,
    Account,
    AccountKind,
    CustomerUser,
    Employee,
    LoginThrottle,
    RefreshToken,
)
from models.api_tokens import ApiToken
from models.audit import AuditAction, AuditEvent
from models.customers import CustomerUserObject, ObjectResponsible
from models.http import IdempotentRequest
from models.inbound_mail import InboundMail, InboundSenderHour
from models.notifications import DeliveryStatus, OutboxMail
from models.personal_data import PersonExport
from models.webhooks import Webhook
from permissions.viewer import Viewer
from resolvers.audit import record_audit
from resolvers.people import account_of_person
from resolvers.personal_data.export import delete_exports

ERASED_NAME = "Gelöschte Person {n}"
LAST_ADMIN = "LAST_ADMIN"


async def erase_person(settings: Settings, viewer: Viewer, address: str | None, person_id: tuple[str, int]) -> Account:
    """`erasePerson`: the person anonymised and the erasure audited (PERSON_ERASED) in one transaction,
    then their exports removed with their files. Answers the account as it is now."""
    type_name, pk = person_id
    account = await account_of_person(person_id, "personId")
    already = account.erased_at is not None
    async with in_transaction():
        erased, exports = await erase_account(account)
        if not already:
            summary = f"{type_name} erased, now {erased.name!r}"
            await record_audit(viewer, AuditAction.PERSON_ERASED, type_name, pk, summary, address)
    await delete_exports(exports, settings)
    return erased


def erased_name(account_id: int) -> str:
    return ERASED_NAME.format(n=account_id)


def erased_email(account_id: int) -> str:
    return f"erased-{account_id}@{ERASED_EMAIL_DOMAIN}"


async def erase_account(account: Account) -> tuple[Account, list[int]]:
    """Anonymise `account` (inside the caller's transaction, which also records the audit event).

    Answers the account as it is now and the ids of the person's exports, whose files the caller
    removes after the commit. An account erased before is answered as it is. The last active
    system administrator is refused (`BAD_USER_INPUT`, reason LAST_ADMIN).
    """
    if account.erased_at is not None:
        return account, []
    now = datetime.now(UTC)
    async with in_transaction() as connection:
        employee = await Employee.filter(account_id=account.id).using_db(connection).first()
        if employee is not None and employee.is_system_admin and account.is_active:
            # Locked (PostgreSQL) so two erasures at once cannot remove the last two administrators.
            admins = (
                await Employee.filter(is_system_admin=True, account__is_active=True)
                .using_db(connection)
                .select_for_update()
                .values_list("id", flat=True)
            )
            if not set(admins) - {employee.id}:
                raise BadUserInput(
                    "The last active system administrator cannot be erased.", field="personId", reason=LAST_ADMIN
                )
        old_name, old_email = account.name, account.email
        name = erased_name(account.id)
        await (
            Account.filter(id=account.id)
            .using_db(connection)
            .update(
                name=name,
                email=erased_email(account.id),
                password_hash="",
                is_active=False,
                token_version=F("token_version") + 1,
                locale="de",
                notify_comments=False,
                notify_status_changes=False,
                notify_assignments=False,
                notify_new_tickets=False,
                erased_at=now,
            )
        )
        await RefreshToken.filter(account_id=account.id, revoked_at=None).using_db(connection).update(revoked_at=now)
        await ApiToken.filter(account_id=account.id, revoked_at=None).using_db(connection).update(revoked_at=now)
        await (
            Webhook.filter(account_id=account.id, enabled=True)
            .using_db(connection)
            .update(enabled=False, disabled_reason="Its account was erased.", updated_at=now)
        )
        if employee is not None:
            await Employee.filter(id=employee.id).using_db(connection).update(is_system_admin=False)
            await employee.groups.clear(using_db=connection)
            await ObjectResponsible.filter(employee_id=employee.id).using_db(connection).delete()
        if account.kind is AccountKind.CUSTOMER_USER:
            user = await CustomerUser.filter(account_id=account.id).using_db(connection).get()
            await CustomerUserObject.filter(customer_user_id=user.id).using_db(connection).delete()
        await _forget_in_notifications(connection, account.id, old_name, old_email, name)
        await _forget_in_audit(connection, account.id, employee, old_name, old_email, name)
        throttle_key = "account:" + hashlib.sha256(old_email.encode()).hexdigest()
        await LoginThrottle.filter(key=throttle_key).using_db(connection).delete()
        await IdempotentRequest.filter(account_id=account.id).using_db(connection).delete()
        # Received mail keeps its outcome and ticket, not the person's address.
        await InboundMail.filter(sender=old_email).using_db(connection).update(sender="")
        await InboundSenderHour.filter(sender=old_email).using_db(connection).delete()
        exports = await PersonExport.filter(account_id=account.id).using_db(connection).values("id")
    await account.refresh_from_db()
    return account, [int(row["id"]) for row in exports]


def _scrub(text: str, old_name: str, old_email: str, name: str) -> str:
    """`text` with the person's address and name replaced (address first: it may contain the name)."""
    if old_email:
        text = text.replace(old_email, "")
    if old_name:
        text = text.replace(old_name, name)
    return text


async def _forget_in_notifications(connection: Any, account_id: int, old_name: str, old_email: str, name: str) -> None:
    """Mails to the person: recipient fields emptied, pending ones given up, their text scrubbed."""
    await (
        OutboxMail.filter(recipient_id=account_id, status=DeliveryStatus.PENDING)
        .using_db(connection)
        .update(status=DeliveryStatus.FAILED, note="Not sent: the recipient was erased.", claim_token=None)
    )
    rows = await OutboxMail.filter(Q(recipient_id=account_id) | Q(to_address=old_email)).using_db(connection)
    for row in rows:
        context = json.loads(_scrub(json.dumps(row.context, ensure_ascii=False), old_name, old_email, name))
        await (
            OutboxMail.filter(id=row.id)
            .using_db(connection)
            .update(
                to_name=name,
                to_address="",
                subject=_scrub(row.subject, old_name, old_email, name),
                context=context,
                last_error=_scrub(row.last_error, old_name, old_email, name) if row.last_error else None,
            )
        )


async def _forget_in_audit(
    connection: Any, account_id: int, employee: Employee | None, old_name: str, old_email: str, name: str
) -> None:
    """Audit events keep their ids; the person's name and address leave actor names and summaries."""
    await AuditEvent.filter(actor_id=account_id).using_db(connection).update(actor_name=name)
    subject = Q(subject_type="Employee", subject_id=employee.id) if employee is not None else Q(id=-1)
    user = await CustomerUser.filter(account_id=account_id).using_db(connection).first()
    if user is not None:
        subject |= Q(subject_type="CustomerUser", subject_id=user.id)
    mentions = Q(summary__contains=old_email) if old_email else Q(id=-1)
    if old_name:
        mentions |= Q(summary__contains=repr(old_name)) | Q(summary__contains=f'"{old_name}"')
    rows = await AuditEvent.filter(Q(actor_id=account_id) | subject | mentions).using_db(connection)
    for row in rows:
        summary = _scrub(row.summary, old_name, old_email, name).replace(" <>", "")
        if summary != row.summary:
            await AuditEvent.filter(id=row.id).using_db(connection).update(summary=summary)
