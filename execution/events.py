"""Execute once, send many: subscribers who must get the same answer to a live change share its execution.

graphql-core executes a subscription's document once per event and subscriber,
with the event as the root value. A `schema.live.TicketChange` names, in
`answer`, the change's shared answers and the subscriber's key in them
(`schema.live.answer_key`: the document and variables, and who the viewer is
as far as the answer can tell). The first subscriber of a key executes; the
others await the same result. The execution runs in a task of its own, so a
subscriber who leaves meanwhile (its task cancelled) does not take the
others' answer with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from core.metrics import LIVE_ANSWERS

EXECUTED = LIVE_ANSWERS.labels("executed")
SHARED = LIVE_ANSWERS.labels("shared")


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor; a live change's answer is looked up among those already computed."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared: tuple[dict[Hashable, Any], Hashable] | None = getattr(self.root_value, "answer", None)
        if shared is None:
            return super().execute_operation(serially)
        answers, key = shared
        found = answers.get(key)
        if found is None:
            EXECUTED.inc()
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                answers[key] = result
                return result
            found = answers[key] = asyncio.ensure_future(result)
        else:
            SHARED.inc()
        if isinstance(found, asyncio.Future):
            return _awaited(found)
        return found


async def _awaited(answer: asyncio.Future[ExecutionResult]) -> ExecutionResult:
    # shield: a subscriber cancelled while it waits must not cancel the others' answer.
    shielded: Awaitable[ExecutionResult] = asyncio.shield(answer)
    return await shielded
