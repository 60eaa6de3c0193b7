"""Partners: service accounts, API tokens, read-only impersonation, and the read-only rule for mutations.

`ReadOnlyViewers` is the one place that refuses mutations to a read-only
viewer (an API token created `readOnly`, or an impersonation): a schema
extension that answers before anything executes, for every mutation field
alike, with `FORBIDDEN` and the viewer's `extensions.reason`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

import strawberry
from graphql import ExecutionResult, GraphQLError
from graphql.language import DocumentNode, FieldNode, OperationDefinitionNode, OperationType
from strawberry.extensions import SchemaExtension

from core.ids import parse_id, to_global_id
from models.api_tokens import ApiToken as ApiTokenRow
from permissions.api_tokens import READ_ONLY_MESSAGES
from permissions.policy import PORTAL_ADMINS, SYSTEM_ADMINS
from resolvers import api_tokens
from resolvers.api_tokens import API_TOKENS
from schema.accounts import CustomerUser, Employee, Person, client_address
from schema.directive import described, field, mutation, type_policy
from schema.inputs import PermissionGroupIds, decoded
from schema.relay import (
    Connection,
    Node,
    Paging,
    connection,
    paged,
)
from schema.tickets.types import person

# ------------------------------------------------------------------ read-only viewers


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def read_only_refusal(operation: OperationDefinitionNode, reason: str) -> ExecutionResult:
    """`data: null` and one FORBIDDEN error per root mutation field, none of which runs."""
    message = READ_ONLY_MESSAGES.get(reason, "This session is read-only: it may not run mutations.")
    extensions = {"code": "FORBIDDEN", "reason": reason}
    fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    errors = [
        GraphQLError(message, f, path=[(f.alias or f.name).value], extensions=dict(extensions)) for f in fields
    ] or [GraphQLError(message, operation, extensions=dict(extensions))]
    return ExecutionResult(data=None, errors=errors)


class ReadOnlyViewers(SchemaExtension):
    """Refuse every mutation of a read-only viewer before it executes (`Viewer.read_only` is the reason)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        viewer = getattr(context.context, "viewer", None)
        reason = getattr(viewer, "read_only", None)
        document = context.graphql_document
        if reason and document is not None and context.result is None:
            operation = _operation(document, context.operation_name)
            if operation is not None and operation.operation is OperationType.MUTATION:
                context.result = read_only_refusal(operation, reason)
        yield


# ------------------------------------------------------------------ types


@strawberry.type(
    directives=type_policy(SYSTEM_ADMINS),
    description=(
        "An API token: a credential for one integration, acting as its account "
        "(`Authorization: Bearer sdk_…`). The secret itself is shown once, by `createApiToken`."
    ),
)
class ApiToken(Node):
    name: str = strawberry.field(description="What the token is for, as its creator named it.")
    prefix: str = strawberry.field(
        description="The secret's first 12 characters (`sdk_` and 8 more), to recognise a token, e.g. in a leak report."
    )
    read_only: bool = strawberry.field(description="Whether every mutation is refused (`READ_ONLY_TOKEN`).")
    created_at: datetime = strawberry.field(description="When the token was created.")
    expires_at: datetime | None = strawberry.field(description="When the token stops working; null: never.")
    last_used_at: datetime | None = strawberry.field(
        description="When the token was last used, to the minute (recorded at most once a minute); null: never."
    )
    revoked_at: datetime | None = strawberry.field(description="When the token was revoked; null while it is not.")
    account_pk: strawberry.Private[int]

    @described(description="The account the token acts as: an employee (maybe a service account) or a customer user.")
    async def account(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.account_pk)

    @classmethod
    def from_row(cls, row: ApiTokenRow) -> ApiToken:
        return cls(
            id=to_global_id("ApiToken", row.id),
            name=row.name,
            prefix=row.prefix,
            read_only=row.read_only,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            account_pk=row.account_id,
        )


@strawberry.type(directives=type_policy(SYSTEM_ADMINS), description="A new API token and its secret.")
class CreateApiTokenPayload:
    token: str = strawberry.field(
        description="The secret (starts with `sdk_`). Shown only here, only once: store it now; Sitedesk keeps a hash."
    )
    api_token: ApiToken = strawberry.field(description="The token's details, as `apiTokens` lists them.")


@strawberry.type(directives=type_policy(PORTAL_ADMINS), description="A read-only session as a customer user.")
class ImpersonationPayload:
    access_token: str = strawberry.field(
        description=(
            "A short-lived access token (JWT) that reads exactly as the customer user; every mutation with it "
            "is FORBIDDEN (`IMPERSONATION_READ_ONLY`). Its `act` claim names you. There is no refresh token."
        )
    )
    expires_at: datetime = strawberry.field(description="When the access token stops working.")
    customer_user: CustomerUser = strawberry.field(description="Whom the token reads as.")


@strawberry.input(description="A new service account.")
class CreateServiceAccountInput:
    name: str = strawberry.field(description="The integration's name, shown as the account's name.")
    is_system_admin: bool = strawberry.field(
        default=False, description="Whether the account is a system administrator."
    )
    group_ids: PermissionGroupIds = strawberry.field(
        default_factory=list, description="Permission groups the account belongs to."
    )


@strawberry.input(description="A new API token.")
class CreateApiTokenInput:
    account_id: strawberry.ID = strawberry.field(
        description="The Employee (or service account) or CustomerUser the token acts as."
    )
    name: str = strawberry.field(description="What the token is for (shown in `apiTokens`).")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token stops working: a future instant, or null for never."
    )
    read_only: bool = strawberry.field(
        default=False, description="Refuse every mutation with this token (`FORBIDDEN`, `READ_ONLY_TOKEN`)."
    )


# ------------------------------------------------------------------ operations


@strawberry.type
class ApiTokenQueries:
    @field(policy=SYSTEM_ADMINS, description="Every API token, newest first; revoked and expired ones included.")
    @paged(API_TOKENS)
    async def api_tokens(self, info: strawberry.Info, page: Paging) -> Connection[ApiToken]:
        rows, total = await api_tokens.page_of_api_tokens(info.context.viewer, page.window)
        return connection([ApiToken.from_row(r) for r in rows], rows, page, total)


@strawberry.type
class ApiTokenMutations:
    @mutation(
        policy=SYSTEM_ADMINS,
        description="Create a service account: an employee-kind account for one integration that cannot sign in "
        "with a password and acts through API tokens only.",
    )
    async def create_service_account(
        self,
        info: strawberry.Info,
        input: Annotated[
            CreateServiceAccountInput,
            strawberry.argument(description="The name, administrator flag and permission groups of the account."),
        ],
    ) -> Employee:
        row, account = await api_tokens.create_service_account(
            info.context.viewer, client_address(info), **decoded(input)
        )
        return Employee.from_rows(row, account)

    @mutation(
        policy=SYSTEM_ADMINS,
        description="Create an API token for an account; the answer holds the secret, once.",
    )
    async def create_api_token(
        self,
        info: strawberry.Info,
        input: Annotated[
            CreateApiTokenInput,
            strawberry.argument(
                description="The account the token acts as, its name, expiry and whether it may write."
            ),
        ],
    ) -> CreateApiTokenPayload:
        created = await api_tokens.create_api_token(info.context.viewer, client_address(info), **decoded(input))
        return CreateApiTokenPayload(token=created.secret, api_token=ApiToken.from_row(created.token))

    @mutation(
        policy=SYSTEM_ADMINS,
        description=(
            "Revoke an API token: from now on it is refused (HTTP 401, `TOKEN_REVOKED`). Revoking twice is harmless."
        ),
    )
    async def revoke_api_token(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The ApiToken's id.")]
    ) -> ApiToken:
        pk = parse_id(id, "ApiToken", field="id")
        return ApiToken.from_row(await api_tokens.revoke_api_token(info.context.viewer, client_address(info), pk))

    @mutation(
        policy=PORTAL_ADMINS,
        description="See the portal as a customer user sees it: a short-lived, read-only access token (audited).",
    )
    async def impersonate(
        self,
        info: strawberry.Info,
        customer_user_id: Annotated[strawberry.ID, strawberry.argument(description="The CustomerUser to read as.")],
    ) -> ImpersonationPayload:
        pk = parse_id(customer_user_id, "CustomerUser", field="customerUserId")
        found = await api_tokens.impersonate(info.context.settings, info.context.viewer, client_address(info), pk)
        return ImpersonationPayload(
            access_token=found.access_token,
            expires_at=found.expires_at,
            customer_user=CustomerUser.from_rows(found.customer_user, found.customer_user.account),
        )
