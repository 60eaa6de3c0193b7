"""The viewer: who is making a request, loaded once per request."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from core.queries import Sentinels, prepared_values
from models.accounts import Account, AccountKind

# The ids a scoping query may bind as parameters (`core.queries`); every other
# field of a viewer is part of the query's shape, except the display fields.
QUERY_IDS = ("account_id", "employee_id", "customer_user_id", "customer_id")
# How the viewer signed in (API token, impersonation) never changes what it may see.
NOT_IN_QUERIES = ("name", "email", "read_only", "api_token_id", "impersonator_account_id")


@dataclass(frozen=True)
class Viewer:
    account_id: int | None = None
    kind: AccountKind | None = None
    name: str = ""
    email: str = ""
    locale: str = "de"
    employee_id: int | None = None
    customer_user_id: int | None = None
    customer_id: int | None = None
    is_system_admin: bool = False
    permissions: frozenset[str] = field(default_factory=frozenset)
    # Set when every mutation is refused: the `extensions.reason` of that
    # refusal (READ_ONLY_TOKEN, IMPERSONATION_READ_ONLY; `permissions/api_tokens.py`).
    read_only: str | None = None
    # The API token this request came with, and who impersonates this viewer.
    api_token_id: int | None = None
    impersonator_account_id: int | None = None

    @property
    def is_signed_in(self) -> bool:
        return self.account_id is not None

    @property
    def is_employee(self) -> bool:
        return self.kind is AccountKind.EMPLOYEE

    @property
    def is_customer_user(self) -> bool:
        return self.kind is AccountKind.CUSTOMER_USER

    def has_permission(self, name: str) -> bool:
        return name in self.permissions

    # What compiled queries (`core.queries.prepared_values`) need to know of a viewer.

    def query_shape(self) -> Hashable:
        """Everything about this viewer a scoping query may branch on, ids excepted."""
        return tuple(
            (f.name, getattr(self, f.name) is None if f.name in QUERY_IDS else getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in NOT_IN_QUERIES
        )

    def query_inputs(self) -> dict[str, Any]:
        """The ids `with_sentinels` stood in for, by sentinel name."""
        return {f"viewer.{name}": getattr(self, name) for name in QUERY_IDS if getattr(self, name) is not None}

    def with_sentinels(self, sentinels: Sentinels) -> Viewer:
        """This viewer with each id replaced by a sentinel (`None` stays `None`)."""
        ids: dict[str, Any] = {
            name: sentinels.int(f"viewer.{name}") for name in QUERY_IDS if getattr(self, name) is not None
        }
        return dataclasses.replace(self, **ids)


ANONYMOUS = Viewer()


VIEWER_COLUMNS = (
    "id",
    "kind",
    "name",
    "email",
    "locale",
    "employee__id",
    "employee__is_system_admin",
    "employee__groups__permissions",
    "customer_user__id",
    "customer_user__customer_id",
)


async def load_viewer(account_id: int, token_version: int) -> Viewer | None:
    """The viewer for a token's account, or None when the account or token is no longer valid.

    One query for every request: the account joined with its employee or
    customer-user row and the employee's groups (one row per group).
    """
    rows = await prepared_values(
        ("load_viewer",),
        lambda s: Account.filter(id=s.int("account"), is_active=True, token_version=s.int("version")).values(
            *VIEWER_COLUMNS
        ),
        {"account": account_id, "version": token_version},
    )
    return viewer_from_rows(rows)


async def load_viewers(sessions: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Viewer]:
    """`load_viewer` for many (account, token version) pairs in one statement (live sockets' re-check).

    A pair whose account is gone, inactive or at another token version is missing from the answer.
    """
    pairs = set(sessions)
    if not pairs:
        return {}
    rows = await Account.filter(id__in=sorted({account for account, _ in pairs}), is_active=True).values(
        "token_version", *VIEWER_COLUMNS
    )
    by_session: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in rows:
        by_session.setdefault((row["id"], row["token_version"]), []).append(row)
    found = {pair: viewer_from_rows(by_session.get(pair, [])) for pair in pairs}
    return {pair: viewer for pair, viewer in found.items() if viewer is not None}


def viewer_from_rows(rows: list[dict[str, Any]]) -> Viewer | None:
    """The viewer of an account's `VIEWER_COLUMNS` rows (one per group); None without rows."""
    if not rows:
        return None
    account = rows[0]
    common = dict(
        account_id=account["id"],
        kind=account["kind"],
        name=account["name"],
        email=account["email"],
        locale=account["locale"],
    )
    if account["kind"] is AccountKind.EMPLOYEE:
        if account["employee__id"] is None:
            return None
        permissions = {p for row in rows for p in row["employee__groups__permissions"] or ()}
        return Viewer(
            **common,
            employee_id=account["employee__id"],
            is_system_admin=bool(account["employee__is_system_admin"]),
            permissions=frozenset(permissions),
        )
    if account["customer_user__id"] is None:
        return None
    return Viewer(
        **common, customer_user_id=account["customer_user__id"], customer_id=account["customer_user__customer_id"]
    )
