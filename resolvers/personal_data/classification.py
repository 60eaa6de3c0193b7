"""Every stored field, classified: personal (with how export and erasure handle it) or not personal.

tests/personal_data/test_classification.py walks every Tortoise model's fields and fails on a
field missing here (a new column must be thought through before it can land) and on an entry
naming no field. `PERSONAL` maps "Model.field" to (where the export puts it — a person.json key of
resolvers/personal_data/document.py, or "not exported: why" — and what erasure does with it);
`NOT_PERSONAL` lists the rest per model, space-separated.
"""

from __future__ import annotations

KEPT = "kept: the business record, shown under the anonymous name"
LINK = "kept: points at the account, which is anonymised"

PERSONAL: dict[str, tuple[str, str]] = {
    "Account.email": ("person.email", "replaced by a placeholder at erased.invalid, shown as null"),
    "Account.name": ("person.name", 'replaced by "Gelöschte Person <n>"'),
    "Account.password_hash": ("not exported: a secret", "removed"),
    "Account.locale": ("notificationSettings.locale", "reset to de"),
    "Account.notify_comments": ("notificationSettings.comments", "dropped (off)"),
    "Account.notify_status_changes": ("notificationSettings.statusChanges", "dropped (off)"),
    "Account.notify_assignments": ("notificationSettings.assignments", "dropped (off)"),
    "Account.notify_new_tickets": ("notificationSettings.newTickets", "dropped (off)"),
    "Account.is_active": ("person.isActive", "set to false"),
    "Account.created_at": ("person.createdAt", "kept"),
    "Account.erased_at": ("not exported: set by erasure only", "set"),
    "Employee.account_id": ("person", LINK),
    "Employee.is_system_admin": ("person.isSystemAdmin", "set to false"),
    "Employee.groups": ("not exported: the company's permission setup", "emptied"),
    "CustomerUser.account_id": ("person", LINK),
    "CustomerUser.customer_id": ("person.customer", "kept"),
    "CustomerUserObject.customer_user_id": ("person.objects", "rows deleted"),
    "ObjectResponsible.employee_id": ("not exported: the company's assignment of work", "rows deleted"),
    "RefreshToken.account_id": ("not exported: session secrets", "every token revoked"),
    "RefreshToken.family": ("not exported: session secrets", "revoked"),
    "RefreshToken.token_hash": ("not exported: session secrets", "revoked"),
    "LoginThrottle.key": ("not exported: a hash of a typed address, kept minutes", "the address's row deleted"),
    "ApiToken.account_id": ("apiTokens", "every token revoked"),
    "ApiToken.name": ("apiTokens[].name", "kept (names the integration, revoked)"),
    "ApiToken.last_used_at": ("apiTokens[].lastUsedAt", "kept (revoked)"),
    "ApiToken.created_by_id": ("not exported: the administrator's act, in the audit trail", LINK),
    "AuditEvent.actor_id": ("auditEvents[].role", LINK),
    "AuditEvent.actor_name": ("auditEvents", "replaced by the anonymous name"),
    "AuditEvent.subject_id": ("auditEvents[].role", "kept (an id)"),
    "AuditEvent.summary": ("auditEvents[].summary", "the name and address replaced"),
    "AuditEvent.address": ("auditEvents[].address (their own actions only)", "kept: the actor's client address"),
    "Ticket.title": ("ticketsCreated[].title", KEPT),
    "Ticket.description": ("ticketsCreated[].description", KEPT),
    "Ticket.created_by_id": ("ticketsCreated", LINK),
    "Ticket.assignee_id": ("not exported: the company's assignment of work", LINK),
    "Ticket.feedback": ("ticketsCreated[].feedback", KEPT),
    "Ticket.rating": ("ticketsCreated[].rating", KEPT),
    "Comment.author_id": ("comments", LINK),
    "Comment.body": ("comments[].body, ticketsCreated[].comments[].body", KEPT),
    "Attachment.uploaded_by_id": ("attachments (the bytes under files/)", LINK),
    "Attachment.filename": ("attachments[].filename", KEPT),
    "Attachment.storage_key": ("attachments[].file (the bytes, photos without metadata)", KEPT),
    "TicketEvent.actor_id": ("ticketHistory", LINK),
    "TicketEvent.from_value": ("not exported: ids and states of the company's workflow", KEPT),
    "TicketEvent.to_value": ("not exported: ids and states of the company's workflow", KEPT),
    "FormSubmission.submitted_by_id": ("formSubmissions", LINK),
    "FormSubmission.answers": ("formSubmissions[].answers", KEPT),
    "FormSubmission.client_submission_id": ("not exported: a device's retry key", "kept"),
    "FormFile.storage_key": ("formSubmissions[].files (the bytes under files/)", KEPT),
    "FormFile.filename": ("formSubmissions[].files[].filename", KEPT),
    "FormTemplate.created_by_id": ("not exported: the company's form design", LINK),
    "FormTemplateVersion.created_by_id": ("not exported: the company's form design", LINK),
    "OutboxMail.recipient_id": ("notifications", LINK),
    "OutboxMail.to_address": ("notifications[].recipientEmail", "emptied"),
    "OutboxMail.to_name": ("notifications[].recipientName", "replaced by the anonymous name"),
    "OutboxMail.subject": ("notifications[].subject", "the name and address replaced"),
    "OutboxMail.context": ("not exported: the mail's text as rendered", "the name and address replaced"),
    "OutboxMail.last_error": ("not exported: a mail server's answer", "the name and address replaced"),
    "OutboxMail.status": ("notifications[].status", "pending mails given up"),
    "Webhook.account_id": ("not exported: an integration's endpoint", "disabled"),
    "Webhook.created_by_id": ("not exported: the administrator's act, in the audit trail", LINK),
    "IdempotentRequest.account_id": ("not exported: stored answers kept a day", "rows deleted"),
    "IdempotentRequest.body": ("not exported: stored answers kept a day", "rows deleted"),
    "PersonExport.account_id": ("not exported: the export itself", "exports deleted with their files"),
    "Account.mail_bouncing_address": ("not exported: a delivery state", "cleared"),
    "InboundMail.sender": ("not exported: the mail became their comment or ticket", "emptied"),
    "InboundSenderHour.sender": ("not exported: an hourly counter", "rows deleted"),
    "LiveSocket.account_id": ("not exported: an open connection, gone within minutes", LINK),
    "PersistedQueryQuota.address": ("not exported: a client address counted for an hour", "kept: not tied to a person"),
    "PersonExport.requested_by_id": ("not exported: the administrator's act, in the audit trail", LINK),
}

NOT_PERSONAL: dict[str, str] = {
    "Account": "id kind token_version is_service_account",
    "ApiToken": "id token_hash prefix read_only created_at expires_at revoked_at",
    "ApiTokenUsage": "id minute requests token_id",
    "BusinessCalendar": "id name time_zone hours holidays holiday_region created_at updated_at",
    "ServiceLevelPolicy": "id name calendar_id customer_id ticket_type_ids targets warn_at_percent terms_id created_at "
    "updated_at",
    "ServiceLevelTerms": "id policy_id policy_name calendar targets warn_at_percent created_at",
    "Attachment": "id content_type size sha256 created_at ticket_id",
    "AuditEvent": "id action subject_type created_at",
    "Comment": "id internal created_at edited_at ticket_id source",
    "Customer": "id name created_at ticket_evaluation_enabled ticket_evaluation_group_size_days mail_ticket_type_id",
    "CustomerTicketType": "id customer_id ticket_type_id",
    "CustomerUser": "id",
    "CustomerUserObject": "id object_id",
    "DocumentRule": "id content_types customer_id ticket_type_id",
    "Employee": "id",
    "FileClaim": "storage_key in_flight",
    "FormFile": "id role element_key content_type size sha256 created_at submission_id",
    "FormSubmission": "id submitted_at object_id template_id version_id",
    "FormTemplate": "id name description is_public status public_token current_version created_at updated_at "
    "published_at",
    "FormTemplateVersion": "id version name description elements created_at template_id",
    "IdempotentRequest": "id key fingerprint status http_status content_type headers created_at expires_at",
    "LoginThrottle": "id attempts window_started",
    "ObjectResponsible": "id object_id",
    "OutboxMail": "id audience kind locale mail_key attempts next_attempt_at claim_token note created_at sent_at "
    "ticket_id",
    "PermissionGroup": "id name permissions created_at employees",
    "PersistedQuery": "sha256 query created_at last_used_at",
    "PersistedQueryQuota": "id registrations window_started",
    "LiveSocket": "id expires_at process",
    "InboundMail": "id message_id message_key outcome received_at recipient comment_id ticket_id",
    "InboundSenderHour": "id hour count",
    "PersonExport": "id status attempts claim_token claimed_until last_error filename content_type size sha256 "
    "storage_key created_at finished_at expires_at",
    "RefreshToken": "id created_at expires_at rotated_at revoked_at",
    "SiteObject": "id name address is_active created_at customer_id intake_key",
    "Thumbnail": "id source_key size storage_key width height created_at",
    "Ticket": "id number status due_date form_submission_id source created_at updated_at done_at resolution_days "
    "external_ref confirmed_at reopen_count object_id state_id ticket_type_id priority sla_due_ascending "
    "sla_due_descending sla_first_responded_at sla_first_response_breached sla_first_response_due_at "
    "sla_first_response_warn_at sla_next_check_at sla_notified sla_paused_seconds sla_paused_since "
    "sla_resolution_breached sla_resolution_due_at sla_resolution_started_at sla_resolution_warn_at sla_resolved_at "
    "sla_terms_id",
    "TicketCounter": "id last_number",
    "TicketEvent": "id kind comment_id attachment_id created_at ticket_id",
    "TicketState": "id name category position is_default color ticket_type_id pauses_service_level",
    "TicketTransition": "id from_state_id ticket_type_id to_state_id",
    "TicketType": "id name is_absence_request created_at customer_confirmation reopen_window_days",
    "Webhook": "id url events description secret enabled disabled_reason failing_since created_at updated_at",
    "WebhookDelivery": "id event message_id ticket_id comment_id attachment_id submission_id detail occurred_at "
    "status attempts next_attempt_at claim_token http_status duration_ms last_error created_at delivered_at "
    "webhook_id",
}


def classified() -> dict[str, str]:
    """Every classified "Model.field" and its class ("personal" or "not personal")."""
    found = dict.fromkeys(PERSONAL, "personal")
    for model, names in NOT_PERSONAL.items():
        for name in names.split():
            found[f"{model}.{name}"] = "not personal"
    return found
