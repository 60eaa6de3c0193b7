"""Error shaping: our own errors pass with their code; anything unexpected is
logged with the request id and reaches the client as `INTERNAL_SERVER_ERROR`.
Suggestions ("Did you mean …") are cut from every message, since they can
name fields the viewer may not use."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from resolvers.errors import SitedeskError

logger = logging.getLogger("sitedesk.errors")
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
        logger.error("unexpected error in %s (request %s)", error.path, request_id,
                     exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            error.message = SUGGESTION.sub("", error.message)
            if error.extensions is None or "code" not in error.extensions:
                # graphql-core wraps a variable that does not fit its type in another error.
                code = "BAD_USER_INPUT" if error.original_error else "GRAPHQL_VALIDATION_FAILED"
                error.extensions = {**(error.extensions or {}), "code": code}
        return processed
