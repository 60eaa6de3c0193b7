"""The errors an operation can fail with; `code` becomes `extensions.code`.

graphql-core copies an exception's `extensions` onto the GraphQL error, so
these are plain exceptions that resolvers and policies raise.
"""

from __future__ import annotations

from typing import Any


class SitedeskError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class Unauthenticated(SitedeskError):
    code = "UNAUTHENTICATED"


class Forbidden(SitedeskError):
    code = "FORBIDDEN"


class NotFound(SitedeskError):
    """Does not exist, or the viewer may not know that it exists."""

    code = "NOT_FOUND"


class BadUserInput(SitedeskError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str | None = None, **extensions: Any) -> None:
        if field is not None:
            extensions["field"] = field
        super().__init__(message, **extensions)


class RateLimited(SitedeskError):
    code = "RATE_LIMITED"
