"""`Idempotency-Key` on mutation requests: the first response is kept per account and key
for 24 hours, and a retry gets it again without running anything.

- The request must be a signed-in POST whose operation is a mutation; for anything else
  (queries, anonymous requests such as `login`) the header is ignored.
- The fingerprint is the SHA-256 of the operation (query, variables, operation name,
  extensions; for an upload also the `map` and each file's SHA-256).
- The row is claimed *before* the mutation runs (unique per account and key), so of two
  concurrent requests with one key only one runs. The other waits for the first response
  up to `WAIT_SECONDS` and gets it; if the first is still running then, it answers HTTP 409
  `CONFLICT` (`extensions.reason: IDEMPOTENCY_KEY_IN_USE`, `Retry-After: 1`).
- Same key, other body: HTTP 422 `BAD_USER_INPUT` (`reason: IDEMPOTENCY_KEY_REUSED`).
- A replayed response has the stored status, body and content type, plus
  `Idempotent-Replayed: true`. A request that failed before producing a response (HTTP
  5xx: the database unavailable) stores nothing, so its retry runs. A claim older than
  `ABANDONED_AFTER` without a response (its process died) is taken over by the next retry.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from graphql import OperationType, get_operation_ast, parse
from graphql.error import GraphQLError
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.exceptions import IntegrityError

from models.http import IdempotentRequest
from permissions.viewer import Viewer

HEADER = "idempotency-key"
KEEP = timedelta(hours=24)
WAIT_SECONDS = 10.0
ABANDONED_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255
RUNNING, DONE = "RUNNING", "DONE"
REPLAYED_HEADERS = ("retry-after", "www-authenticate")
PURGE_EVERY = 100  # claims per process between two deletions of expired rows

_claims = 0


def _error(message: str, code: str, status: int, headers: dict[str, str] | None = None, **extensions: Any) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return JSONResponse(body, status_code=status, headers=headers)


async def _operation(request: Request) -> tuple[dict[str, Any], bytes] | None:
    """The request's operation and the bytes its fingerprint covers; None when unreadable
    (the GraphQL view answers such a request itself)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "multipart/form-data":
            form = await request.form()
            operation = orjson.loads(str(form.get("operations", "")))
            files = []
            for name, value in sorted(form.multi_items()):
                if isinstance(value, UploadFile):
                    content = await value.read()
                    await value.seek(0)
                    files.append([name, hashlib.sha256(content).hexdigest()])
            extra: Any = {"map": orjson.loads(str(form.get("map", "{}"))), "files": files}
        else:
            operation = orjson.loads(await request.body())
            extra = None
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return None
    if not isinstance(operation, dict):
        return None
    return operation, covered_json(operation, extra)


def covered_json(operation: dict[str, Any], extra: Any = None) -> bytes:
    """The bytes a fingerprint covers: the operation (and for uploads the map and the files' hashes)."""
    covered = {key: operation.get(key) for key in ("query", "variables", "operationName", "extensions")}
    return orjson.dumps([covered, extra], option=orjson.OPT_SORT_KEYS)


def fingerprint_of(covered: bytes) -> str:
    return hashlib.sha256(covered).hexdigest()


def is_mutation(query: str | None, operation_name: Any) -> bool:
    if not isinstance(query, str):
        return False
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, operation_name if isinstance(operation_name, str) else None)
    return operation is not None and operation.operation is OperationType.MUTATION


def _replay(row: IdempotentRequest) -> Response:
    headers = {**(row.headers or {}), "Idempotent-Replayed": "true"}
    return Response(row.body or b"", status_code=row.http_status or 200, media_type=row.content_type, headers=headers)


async def _purge_expired(now: datetime) -> None:
    global _claims
    _claims += 1
    if _claims % PURGE_EVERY == 1:
        await IdempotentRequest.filter(expires_at__lt=now).delete()


async def _claim(account_id: int, key: str, fingerprint: str) -> IdempotentRequest | Response:
    """Claim (account, key) for this request, or the answer for it when another has it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        now = datetime.now(UTC)
        await _purge_expired(now)
        try:
            return await IdempotentRequest.create(
                account_id=account_id,
                key=key,
                fingerprint=fingerprint,
                status=RUNNING,
                headers={},
                created_at=now,
                expires_at=now + KEEP,
            )
        except IntegrityError:
            pass
        existing = await IdempotentRequest.get_or_none(account_id=account_id, key=key)
        if existing is None:
            continue  # the other claim was just given up: try again
        if existing.expires_at <= now or (existing.status == RUNNING and existing.created_at <= now - ABANDONED_AFTER):
            await IdempotentRequest.filter(id=existing.id, status=existing.status).delete()
            continue
        if existing.fingerprint != fingerprint:
            return _error(
                "This Idempotency-Key was used for another request; use a new key for a new request.",
                "BAD_USER_INPUT",
                422,
                reason="IDEMPOTENCY_KEY_REUSED",
            )
        if existing.status == DONE:
            return _replay(existing)
        if loop.time() >= deadline:
            return _error(
                "A request with this Idempotency-Key is still running; retry shortly.",
                "CONFLICT",
                409,
                headers={"Retry-After": "1"},
                reason="IDEMPOTENCY_KEY_IN_USE",
            )
        await asyncio.sleep(0.05)


async def respond(
    request: Request,
    viewer: Viewer,
    run: Callable[[], Awaitable[Response]],
    resolve_query: Callable[[dict[str, Any], str | None], Awaitable[str | None]],
) -> Response:
    """Run the request once per (account, key); `resolve_query` finds a persisted query's text.

    A read-only viewer (API token, impersonation) shares its account with sessions that write, but may
    never be handed one of their stored answers: its mutations run, and are refused, every time.
    """
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST" or viewer.account_id is None or viewer.read_only:
        return await run()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        return _error(
            f"The Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            "BAD_USER_INPUT",
            400,
            reason="IDEMPOTENCY_KEY_INVALID",
        )
    read = await _operation(request)
    if read is None:
        return await run()
    operation, covered = read
    query = operation.get("query")
    if query is None:
        try:
            query = await resolve_query(operation, request.headers.get("authorization"))
        except Exception:  # the view reports a bad persisted query itself
            query = None
    if not is_mutation(query, operation.get("operationName")):
        return await run()
    claim = await _claim(viewer.account_id, key, fingerprint_of(covered))
    if isinstance(claim, Response):
        return claim
    row = claim
    try:
        response = await run()
    except BaseException:
        await IdempotentRequest.filter(id=row.id).delete()
        raise
    if response.status_code >= 500:
        await IdempotentRequest.filter(id=row.id).delete()
        return response
    headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
    await IdempotentRequest.filter(id=row.id).update(
        status=DONE,
        http_status=response.status_code,
        content_type=response.headers.get("content-type"),
        headers=headers,
        body=bytes(response.body),
    )
    return response
