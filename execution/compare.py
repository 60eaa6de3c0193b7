"""The comparison mode (`SITEDESK_COMPARE_EXECUTION=1`): both execution paths, one answer.

Every compiled query also runs on graphql-core's executor, on a copy of the
context with fresh DataLoaders and policy answers, and the two results must be
identical: the JSON of `data` (key order included) and of each error
(message, locations, path, extensions) and the class of its original error.
The one tolerated difference is the time inside a signed download URL
(`expires=…&signature=…`), which names the second the URL was signed.
Mutations cannot run twice: each root mutation field's resolver runs once, and
the value it returns is completed both ways, by the plan and by graphql-core's
`complete_value`, right after it resolved (before the next mutation runs).

The reference run's SQL is left out of Tortoise's statement log, so the tests
that count statements still count one execution. A difference raises
`ExecutionMismatch` (the request then fails) and is kept in `MISMATCHES` for
the test harness, which fails the test.
"""

from __future__ import annotations

import copy
import inspect
import logging
import os
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from graphql import GraphQLError, OperationType
from graphql.execution import ExecutionResult
from graphql.execution.executor import Executor
from graphql.pyutils import Path
from graphql.utilities import get_operation_ast

from execution.stats import STATS

if TYPE_CHECKING:
    from execution.arguments import Arguments
    from execution.plan import FieldPlan, Plan
    from execution.runtime import Run


class Execution(Protocol):
    """What the comparison needs of `CompiledExecution`."""

    def run(self, arguments: Arguments, observer: Any = None) -> Any: ...


ENV = "SITEDESK_COMPARE_EXECUTION"
REFERENCE: ContextVar[bool] = ContextVar("sitedesk_reference_execution", default=False)
MISMATCHES: list[str] = []
SIGNED_URL = re.compile(rb"expires=\d+&signature=[0-9a-f.]+")
logger = logging.getLogger("sitedesk.graphql")


def enabled() -> bool:
    return os.environ.get(ENV, "") not in ("", "0")


class ExecutionMismatch(AssertionError):
    """The compiled plan and graphql-core's executor answered differently."""


class LeaveOutReference(logging.Filter):
    """Drops the statement log records of the reference run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not REFERENCE.get()


_filter = LeaveOutReference()


def install() -> None:
    logger_ = logging.getLogger("tortoise.db_client")
    if _filter not in logger_.filters:
        logger_.addFilter(_filter)


def answer(result: ExecutionResult) -> bytes:
    """The response JSON as the client would see it (before error masking), plus error classes."""
    errors = [{**error.formatted, "original": type(error.original_error).__name__} for error in result.errors or ()]
    return orjson.dumps({"data": result.data, "errors": errors}, default=repr)


def fresh_context(context: Any) -> Any:
    """A copy of the context that shares no DataLoader and no policy answer with the original."""
    copied = copy.copy(context)
    for name in ("loaders", "policy_answers"):
        if isinstance(getattr(copied, name, None), dict):
            setattr(copied, name, {})
    return copied


def same(compiled: bytes, reference: bytes) -> bool:
    """Identical answers, up to what differs between two runs of graphql-core itself.

    A signed download URL names the second it was signed at. And when an error
    propagates to a null position, the branches under it still under way are
    cancelled or settled in the background: an error one of them records
    before the propagating error arrives is reported, a later one is not;
    which comes first is the event loop's and the database driver's choice
    (graphql-core on its own answers both ways). Such answers are compared
    without those errors, and counted.
    """
    if compiled == reference:
        return True
    compiled, reference = unsigned(compiled), unsigned(reference)
    if compiled == reference:
        return True
    if without_racing_errors(compiled) == without_racing_errors(reference):
        STATS["answers equal up to graphql-core's own races"] += 1
        logger.warning(
            "answers equal up to errors that race a propagating error:\ncompiled:     %s\ngraphql-core: %s",
            compiled.decode(),
            reference.decode(),
        )
        return True
    if in_any_order(compiled) == in_any_order(reference):
        STATS["answers equal up to the order of their errors"] += 1
        return True
    return False


def in_any_order(answer_json: bytes) -> bytes:
    """The answer with its errors sorted.

    GraphQL gives errors no order, and sibling async fields record theirs as they
    finish: which of two refused siblings comes first is the event loop's choice.
    """
    parsed = orjson.loads(answer_json)
    parsed["errors"] = sorted(parsed["errors"], key=lambda error: orjson.dumps(error, option=orjson.OPT_SORT_KEYS))
    return orjson.dumps(parsed)


def unsigned(answer_json: bytes) -> bytes:
    return SIGNED_URL.sub(b"expires=&signature=", answer_json)


def without_racing_errors(answer_json: bytes) -> bytes:
    """The answer without each error below a null position that a later error also lies below.

    The last error below a null position is the one that nulled it; those before it raced it.
    """
    parsed = orjson.loads(answer_json)
    data, errors = parsed["data"], parsed["errors"]
    kept = []
    for index, error in enumerate(errors):
        position = null_above(data, error.get("path") or [])
        later = errors[index + 1 :]
        if position is not None and any((other.get("path") or [])[: len(position)] == position for other in later):
            continue
        kept.append(error)
    return orjson.dumps({"data": data, "errors": kept})


def null_above(data: Any, path: list[Any]) -> list[Any] | None:
    """The shortest proper prefix of `path` at which `data` holds null (`[]`: the whole data)."""
    node = data
    for depth, key in enumerate(path):
        if node is None:
            return path[:depth]
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return None


def mismatch(what: str, compiled: bytes, reference: bytes) -> ExecutionMismatch:
    """Record the difference (around its first differing byte) and return the error to raise."""
    shorter = min(len(compiled), len(reference))
    at = next((i for i in range(shorter) if compiled[i] != reference[i]), shorter)
    start = max(at - 300, 0)
    report = (
        f"compiled execution differs from graphql-core's for {what} at byte {at}\n"
        f"compiled:     …{compiled[start : at + 300].decode(errors='replace')}…\n"
        f"graphql-core: …{reference[start : at + 300].decode(errors='replace')}…"
    )
    MISMATCHES.append(report)
    logger.error(report)
    return ExecutionMismatch(report)


class Comparison:
    """Runs each operation on both paths (set as `CompiledExecution.compare`)."""

    def __init__(self) -> None:
        install()

    def execute(self, execution: Execution, arguments: Arguments) -> Any:
        observer = Observer(arguments)
        result = execution.run(arguments, observer)
        operation = get_operation_ast(arguments.document, arguments.operation_name)
        if observer.plan is None or operation is None or operation.operation is not OperationType.QUERY:
            return result
        return self.compare_query(arguments, result)

    async def compare_query(self, arguments: Arguments, result: Any) -> ExecutionResult:
        is_awaitable = arguments.is_awaitable or inspect.isawaitable
        compiled: ExecutionResult = await result if is_awaitable(result) else result
        token = REFERENCE.set(True)
        try:
            reference = arguments.reference(fresh_context(arguments.context_value))
            if is_awaitable(reference):
                reference = await reference
        finally:
            REFERENCE.reset(token)
        ours, theirs = answer(compiled), answer(reference)
        if not same(ours, theirs):
            raise mismatch(f"query {arguments.operation_name or ''}".strip(), ours, theirs)
        return compiled


@dataclass
class Outcome:
    """A completion's value, the errors it added and the error it propagated, as JSON."""

    value: Any
    errors: list[GraphQLError]
    propagated: GraphQLError | None

    def json(self, key: str) -> bytes:
        """As the response would carry it: the field's value under its key, null data when it propagated."""
        data = None if self.propagated is not None else {key: self.value}
        return answer(ExecutionResult(data, [*self.errors, *([self.propagated] if self.propagated else [])]))


class Observer:
    """Watches one run: whether a plan ran, and each root mutation field's value."""

    def __init__(self, arguments: Arguments) -> None:
        self.arguments = arguments
        self.plan: Plan | None = None

    def started(self, plan: Plan) -> None:
        self.plan = plan

    def execute(self, run: Run, field: FieldPlan, root: Any) -> Any:
        path = field.path(None)
        if field.policy_index is not None and not run.verdicts[field.policy_index]:
            return field.execute(root, None, run)  # refused: graphql-core's own path already
        try:
            raw = field.resolve(root, path, run)  # type: ignore[misc]
        except Exception as error:
            return run.ex.handle_field_error(error, field.return_type, field.details, path)
        return self.complete_both(run, field, raw, path)

    async def complete_both(self, run: Run, field: FieldPlan, raw: Any, path: Path) -> Any:
        ex = run.ex
        try:
            resolved = await raw if run.is_awaitable(raw) else raw
            run.sync()
        except Exception as error:
            ex.handle_field_error(error, field.return_type, field.details, path)
            return None
        ours = await completion(ex, lambda: field.complete(run, resolved, path), field, path)
        reference = self.arguments.build()
        assert isinstance(reference, Executor)
        info = reference.build_resolve_info(field.definition, field.nodes, field.parent, path)
        token = REFERENCE.set(True)
        try:
            theirs = await completion(
                reference,
                lambda: reference.complete_value(field.return_type, field.details, info, path, resolved, None),
                field,
                path,
            )
        finally:
            REFERENCE.reset(token)
        if not same(ours.json(field.key), theirs.json(field.key)):
            raise mismatch(f"mutation field {field.key}", ours.json(field.key), theirs.json(field.key))
        if ours.propagated is not None:
            raise ours.propagated
        return ours.value


async def completion(ex: Executor[Any], complete: Callable[[], Any], field: FieldPlan, path: Path) -> Outcome:
    """Complete a resolved value, its errors handled at the field as `execute_field` handles them."""
    mark = len(ex.collected_errors.errors)
    value = None
    propagated = None
    try:
        value = complete()
        if ex.is_awaitable(value):
            value = await value
    except Exception as error:
        try:
            ex.handle_field_error(error, field.return_type, field.details, path)
        except GraphQLError as raised:
            propagated = raised
    return Outcome(value, ex.collected_errors.errors[mark:], propagated)
