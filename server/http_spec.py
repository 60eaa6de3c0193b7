"""GraphQL over HTTP (the current spec draft): media types and status codes.

A client that prefers `application/graphql-response+json` in its `Accept` header gets
the spec's answers: a request error (the document does not parse or validate, the
variables do not fit, a limit refuses it before execution, a persisted query is
unknown) is HTTP 400 without a `data` entry; once execution started the answer is 200,
errors or not. Everyone else (`application/json`, `*/*`, no `Accept`) keeps the legacy
answers: 200 with `data: null` for request errors.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# Where `process_result` leaves the status, content type and headers it chose for the response.
HTTP_ANSWER_KEY = "sitedesk.http_answer"
GRAPHQL_RESPONSE_CONTENT_TYPE = f"{GRAPHQL_RESPONSE}; charset=utf-8"


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def prefers_graphql_response(accept: str | None) -> bool:
    """Whether `Accept` ranks `application/graphql-response+json` at least as high as
    `application/json` (or names it and not `application/json`). Wildcards do not count:
    a client must ask for the new media type by name."""
    if not accept:
        return False
    ranked: dict[str, float] = {}
    for item in accept.split(","):
        media_type, *parameters = item.split(";")
        media_type = media_type.strip().lower()
        if media_type in (GRAPHQL_RESPONSE, JSON):
            ranked[media_type] = max(ranked.get(media_type, 0.0), _quality(parameters))
    graphql = ranked.get(GRAPHQL_RESPONSE, 0.0)
    return graphql > 0 and graphql >= ranked.get(JSON, 0.0)


def is_request_error(response: dict[str, Any]) -> bool:
    """No data and no error at a field's path: the operation never executed (or refused
    before executing anything), a "request error" in the spec's terms."""
    errors = response.get("errors")
    if not errors or response.get("data") is not None:
        return False
    return all(not error.get("path") for error in errors)


def shape(response: dict[str, Any], graphql_response: bool) -> int:
    """Adjust one GraphQL response for the negotiated media type; returns the HTTP status."""
    if not graphql_response or not is_request_error(response):
        return 200
    response.pop("data", None)
    return 400


def retry_after(response: dict[str, Any]) -> int | None:
    """The `Retry-After` seconds of a `RATE_LIMITED` answer (the longest wait it names)."""
    waits = [
        extensions.get("retryAfter")
        for error in response.get("errors") or ()
        if (extensions := error.get("extensions") or {}).get("code") == "RATE_LIMITED"
    ]
    numbers = [int(wait) for wait in waits if isinstance(wait, int | float)]
    return max(numbers) if numbers else None


def add_cost_to_refusal(response: Response, limit: int) -> None:
    """`extensions.cost` on a refusal answered before GraphQL saw the request (HTTP 4xx/5xx
    JSON errors of the pipeline): the estimate is unknown (null), the budget is not."""
    if response.status_code < 400 or not response.headers.get("content-type", "").startswith("application/json"):
        return
    try:
        body = orjson.loads(bytes(response.body))
    except (orjson.JSONDecodeError, AttributeError):
        return
    if not isinstance(body, dict) or "errors" not in body or "extensions" in body:
        return
    body["extensions"] = {"cost": {"requested": None, "limit": limit}}
    response.body = orjson.dumps(body)
    response.headers["content-length"] = str(len(response.body))
