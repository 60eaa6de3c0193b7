"""Error shaping: our own errors pass with their code; anything unexpected is
logged with the request id and reaches the client as `INTERNAL_SERVER_ERROR`.
Suggestions ("Did you mean …") are cut from every message, since they can
name fields the viewer may not use."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors

from core.database import database_unavailable
from core.errors import SitedeskError

logger = logging.getLogger("sitedesk.errors")
DATABASE_UNAVAILABLE = "The database is unavailable at the moment; try again shortly."
SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def is_unexpected(error: GraphQLError) -> bool:
    """Errors that did not come from our code's refusals or from validation."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False  # parse, validation and variable coercion errors
    return not isinstance(original, SitedeskError)


class ShapeErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = getattr(self.execution_context.context, "request_id", None)
        if database_unavailable(error.original_error):
            logger.warning("database unavailable in %s (request %s): %s", error.path, request_id, error.original_error)
            return GraphQLError(
                DATABASE_UNAVAILABLE,
                error.nodes,
                path=error.path,
                extensions={"code": "SERVICE_UNAVAILABLE", "requestId": request_id},
            )
        logger.error("unexpected error in %s (request %s)", error.path, request_id, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked

    def _process_result(self, result: object) -> None:
        # Strawberry's own test is `isinstance` against a runtime-checkable Protocol, slow enough
        # to show in the live fan-out (every change to every subscriber passes here): same test, by attribute.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            error.message = SUGGESTION.sub("", error.message)
            if error.extensions is None or "code" not in error.extensions:
                # graphql-core wraps a variable that does not fit its type in another error.
                code = "BAD_USER_INPUT" if error.original_error else "GRAPHQL_VALIDATION_FAILED"
                error.extensions = {**(error.extensions or {}), "code": code}
        return processed


def finish_errors(errors: list[GraphQLError] | None, max_tokens: int | None = None) -> None:
    """Give a code to errors that reached the result without passing `ShapeErrors`.

    Strawberry returns errors raised by an extension hook (the parser cache's
    syntax errors, for one) around the error-shaping extension, so they are
    finished here: syntax errors get `GRAPHQL_PARSE_FAILED` (`TOO_MANY_TOKENS`
    when the parser's token limit stopped it), anything else is masked.
    """
    if errors is None:
        return
    for index, error in enumerate(errors):
        if error.extensions and "code" in error.extensions:
            continue
        if isinstance(error, GraphQLSyntaxError) and "tokens" in error.message:
            error.message = f"The query is too long (at most {max_tokens} tokens)."
            error.extensions = {"code": "TOO_MANY_TOKENS", "limit": max_tokens}
        elif isinstance(error, GraphQLSyntaxError):
            error.message = SUGGESTION.sub("", error.message)
            error.extensions = {"code": "GRAPHQL_PARSE_FAILED"}
        elif is_unexpected(error):
            logger.error("unexpected error outside execution", exc_info=error.original_error)
            errors[index] = GraphQLError(
                "Internal server error.", error.nodes, extensions={"code": "INTERNAL_SERVER_ERROR"}
            )
        else:
            error.message = SUGGESTION.sub("", error.message)
            error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
