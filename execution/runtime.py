"""What a compiled plan calls while it runs.

`Run` is one request's state: graphql-core's `Executor` for the operation
(variables, error collection, resolve infos, and the fields a plan hands
back to it), the context, and the policy verdicts. `PlanInfo` is Strawberry's
`Info` with graphql-core's resolve info built only when a resolver reads more
than the context. The completers mirror graphql-core's `Executor` step by
step (`complete_value`, lists, abstract types, awaitables, errors and null
propagation) so a plan answers exactly as graphql-core does; the generated
code only inlines their common cases.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.executor import (
    Executor,
    collect_iterator_awaitables,
    invalid_return_type_error,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel, is_iterable
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.info import Info

from execution.plan import FieldPlan, Plan
from execution.stats import STATS
from schema.directive import allows

# A response path inside a plan: `(previous, key, typename)` tuples, the shape of
# graphql-core's `Path` (a NamedTuple) without its construction cost; turned into
# a `Path` (`as_path`) only where graphql-core sees it (errors, resolve infos).
Where = tuple[Any, str | int, str | None] | Path
Completer = Callable[["Run", Any, Where], Any]
ObjectFunction = Callable[[Any, Where | None, "Run"], Any]


def as_path(where: Where) -> Path:
    """graphql-core's `Path` for a plan's response path."""
    if type(where) is Path:
        return where
    previous = where[0]
    return Path(None if previous is None else as_path(previous), where[1], where[2])


class Run:
    """One execution of a plan."""

    __slots__ = (
        "context",
        "ex",
        "is_awaitable",
        "observer",
        "policies",
        "verdicts",
        "viewer",
    )

    def __init__(self, executor: Executor[Any], policies: tuple[Any, ...], observer: Any = None) -> None:
        self.ex = executor
        self.context = executor.context_value
        self.policies = policies
        self.is_awaitable = executor.is_awaitable
        self.observer = observer
        self.viewer = None
        self.verdicts: list[bool] = []
        if policies:
            self.viewer = self.context.viewer
            self.verdicts = [allows(policy, self.viewer, self.context) for policy in policies]

    def sync(self) -> None:
        """Decide the policies again when a resolver swapped the viewer (login does)."""
        if self.policies and self.context.viewer is not self.viewer:
            self.viewer = self.context.viewer
            self.verdicts[:] = [allows(policy, self.viewer, self.context) for policy in self.policies]

    def info(self, field: FieldPlan, path: Where) -> GraphQLResolveInfo[Any]:
        """graphql-core's resolve info for `field` (at the field's path, as graphql-core passes it)."""
        at: Any = path
        while isinstance(at[1], int):
            at = at[0]
        return self.ex.build_resolve_info(field.definition, field.nodes, field.parent, as_path(at))

    def fail(self, error: Exception, field: FieldPlan, path: Where) -> None:
        """`handle_field_error` at the field: raises for a non-null field, else records and gives null."""
        self.ex.handle_field_error(error, field.return_type, field.details, as_path(path))

    def fail_item(
        self,
        error: Exception,
        field: FieldPlan,
        item_type: GraphQLOutputType,
        path: Where,
    ) -> None:
        self.ex.handle_field_error(error, item_type, field.details, as_path(path))

    def execute_field(self, field: FieldPlan, source: Any, path: Where) -> Any:
        """graphql-core's `execute_field`, for a field the plan does not run itself."""
        return self.ex.execute_field(field.parent, source, field.details, as_path(path), None)

    def execute_refused(self, field: FieldPlan, source: Any, path: Where) -> Any:
        """A field whose policy refuses the viewer: graphql-core's path, so the refusal is its own."""
        STATS["refused fields on graphql-core's path"] += 1
        return self.ex.execute_field(field.parent, source, field.details, as_path(path), None)


class PlanInfo(Info):
    """Strawberry's `Info` for one resolver call, graphql-core's resolve info built on first use.

    Made as `info = PlanInfo(); info._at = (run, field, path)`: no Python-level
    `__init__`, since a page of tickets makes a few hundred of them.
    """

    __init__ = object.__init__
    _at: tuple[Run, FieldPlan, Where]

    @property
    def _raw_info(self) -> GraphQLResolveInfo[Any]:  # type: ignore[override]
        built = self.__dict__.get("_built")
        if built is None:
            run, field, path = self._at
            built = self.__dict__["_built"] = run.ex.build_resolve_info(
                field.definition, field.nodes, field.parent, as_path(path)
            )
        return built

    @property
    def _field(self) -> Any:  # type: ignore[override]
        return self._at[1].shape.strawberry_field

    @property
    def context(self) -> Any:
        return self._at[0].context


# Values whose class once passed a type check: the check is a function of the
# class for Strawberry's own types (not generic, not `strawberry.cast`), so the
# plans skip it for the next value of that class.
ACCEPTED: dict[GraphQLObjectType, set[type]] = {}
RUNTIME_TYPES: dict[Any, dict[type, GraphQLObjectType]] = {}


def accepted(type_: GraphQLObjectType) -> set[type]:
    return ACCEPTED.setdefault(type_, set())


def castless(value: Any) -> bool:
    return TYPE_CAST_ATTRIBUTE not in getattr(value, "__dict__", (TYPE_CAST_ATTRIBUTE,))


def memoisable(value: Any, checked: bool) -> bool:
    """Whether the class of `value` decides the answer for every value of that class."""
    cls = type(value)
    if issubclass(cls, (Exception, CoroutineType, GeneratorType)) or hasattr(cls, "__await__"):
        return False
    if not checked:
        return True
    definition = getattr(cls, "__strawberry_definition__", None)
    return (
        definition is not None
        and not definition.is_graphql_generic
        and castless(value)
        and not hasattr(cls, TYPE_CAST_ATTRIBUTE)
    )


def completer(
    field: FieldPlan,
    type_: GraphQLOutputType,
    objects: dict[str, ObjectFunction],
    schema: GraphQLSchema,
) -> Completer:
    """`complete_value` for `type_` at `field`, using the plan's object functions."""
    if is_non_null_type(type_):
        inner = nullable_completer(field, type_.of_type, objects, schema)
        message = f"Cannot return null for non-nullable field {field.parent.name}.{field.name}."

        def complete_non_null(run: Run, value: Any, path: Where) -> Any:
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                raise TypeError(message)
            return inner(run, value, path)

        return complete_non_null
    inner = nullable_completer(field, type_, objects, schema)

    def complete_nullable(run: Run, value: Any, path: Where) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        return inner(run, value, path)

    return complete_nullable


def nullable_completer(
    field: FieldPlan,
    type_: GraphQLOutputType,
    objects: dict[str, ObjectFunction],
    schema: GraphQLSchema,
) -> Completer:
    """Completion of a value that is neither null nor an error."""
    if is_list_type(type_):
        return list_completer(
            field,
            type_,
            completer(field, type_.of_type, objects, schema),
            objects,
        )
    if is_leaf_type(type_):
        leaf = Executor.complete_leaf_value
        return lambda run, value, path: leaf(type_, value)
    if is_abstract_type(type_):
        return abstract_completer(
            field,
            type_,
            {
                t.name: object_completer(field, t, objects[t.name])
                for t in schema.get_possible_types(type_)
                if t.name in objects
            },
        )
    return object_completer(field, type_, objects[type_.name])  # type: ignore[arg-type, union-attr]


def object_completer(field: FieldPlan, type_: GraphQLObjectType, function: ObjectFunction) -> Completer:
    """`complete_object_value`: `is_type_of` (once per class where that is sound), then the fields."""
    known = accepted(type_)
    is_type_of = type_.is_type_of

    def complete_object(run: Run, value: Any, path: Where) -> Any:
        if type(value) not in known or (is_type_of is not None and not castless(value)):
            if is_type_of is not None:
                verdict = is_type_of(value, run.info(field, path))
                if run.is_awaitable(verdict):
                    return complete_after_check(run, field, type_, function, value, verdict, path)
                if not verdict:
                    raise invalid_return_type_error(type_, value, field.details)
            if memoisable(value, is_type_of is not None):
                known.add(type(value))
        return function(value, path, run)

    return complete_object


async def complete_after_check(
    run: Run,
    field: FieldPlan,
    type_: GraphQLObjectType,
    function: ObjectFunction,
    value: Any,
    verdict: Awaitable[bool],
    path: Where,
) -> Any:
    if not await verdict:
        raise invalid_return_type_error(type_, value, field.details)
    completed = function(value, path, run)
    return await completed if run.is_awaitable(completed) else completed


def abstract_completer(field: FieldPlan, type_: Any, objects: dict[str, Completer]) -> Completer:
    """`complete_abstract_value`: the runtime type (once per class where sound), then its object completion."""
    known = RUNTIME_TYPES.setdefault(type_, {})

    def complete_abstract(run: Run, value: Any, path: Where) -> Any:
        runtime = known.get(type(value))
        if runtime is None or not castless(value):
            info = run.info(field, path)
            name = (type_.resolve_type or run.ex.type_resolver)(value, info, type_)
            if run.is_awaitable(name):
                return complete_resolved_later(run, field, type_, objects, value, name, info, path)
            runtime = run.ex.ensure_valid_runtime_type(name, type_, field.details, info, value)
            if memoisable(value, True):
                known[type(value)] = runtime
        return objects[runtime.name](run, value, path)

    return complete_abstract


async def complete_resolved_later(
    run: Run,
    field: FieldPlan,
    type_: Any,
    objects: dict[str, Completer],
    value: Any,
    name: Awaitable[Any],
    info: GraphQLResolveInfo[Any],
    path: Where,
) -> Any:
    runtime = run.ex.ensure_valid_runtime_type(await name, type_, field.details, info, value)
    completed = objects[runtime.name](run, value, path)
    return await completed if run.is_awaitable(completed) else completed


def list_completer(
    field: FieldPlan,
    type_: GraphQLList[Any],
    complete_item: Completer,
    objects: dict[str, ObjectFunction],
) -> Completer:
    """`complete_list_value` over a synchronous iterable (async iterables go to graphql-core)."""
    item_type = type_.of_type
    message = f"Expected Iterable, but did not find one for field '{field.parent.name}.{field.name}'."

    def complete_list(run: Run, value: Any, path: Where) -> Any:
        if run.ex.is_async_iterable(value):
            return run.ex.complete_list_value(type_, field.details, run.info(field, path), as_path(path), value, None)
        if not is_iterable(value):
            raise GraphQLError(message)
        return complete_items(run, field, item_type, complete_item, value, path, fast)

    fast = fast_objects(item_type, objects)
    return complete_list


def fast_objects(
    item_type: GraphQLOutputType, objects: dict[str, ObjectFunction]
) -> tuple[set[type], bool, ObjectFunction] | None:
    """For items of one object type: its accepted classes, whether `strawberry.cast` matters, its function."""
    named = item_type.of_type if is_non_null_type(item_type) else item_type
    if not is_object_type(named) or named.name not in objects:
        return None
    return accepted(named), named.is_type_of is not None, objects[named.name]


def complete_items(
    run: Run,
    field: FieldPlan,
    item_type: GraphQLOutputType,
    complete_item: Completer,
    items: Any,
    path: Where,
    fast: tuple[set[type], bool, ObjectFunction] | None,
) -> Any:
    """`complete_iterable_value` and `complete_list_item_value`; an item of a class already
    checked goes straight to its object function, as `complete_item` would send it."""
    is_awaitable = run.is_awaitable
    known, cast_matters, function = fast or (set(), False, None)
    results: list[Any] = []
    waiting: list[int] = []
    iterator = iter(items)
    index = 0
    try:
        for item in iterator:
            item_path = (path, index, None)
            checked = type(item) in known and not (cast_matters and TYPE_CAST_ATTRIBUTE in item.__dict__)
            if not checked and is_awaitable(item):
                results.append(complete_awaited(run, field, complete_item, item_type, item, item_path))
                waiting.append(index)
            else:
                try:
                    if checked:
                        completed = function(item, item_path, run)  # type: ignore[misc]
                    else:
                        completed = complete_item(run, item, item_path)
                    if type(completed) is not dict and is_awaitable(completed):
                        results.append(settle(run, field, item_type, completed, item_path))
                        waiting.append(index)
                    else:
                        results.append(completed)
                except Exception as error:
                    run.fail_item(error, field, item_type, item_path)
                    results.append(None)
            index += 1
    except Exception:
        pending = [results[position] for position in waiting]
        pending.extend(collect_iterator_awaitables(iterator, is_awaitable))
        if pending:
            run.ex.settle_in_background(pending)
        raise
    if not waiting:
        return results
    return gather_items(results, waiting)


async def gather_items(results: list[Any], waiting: list[int]) -> list[Any]:
    if len(waiting) == 1:
        results[waiting[0]] = await results[waiting[0]]
        return results
    for position, value in zip(waiting, await gather_with_cancel(*(results[i] for i in waiting)), strict=True):
        results[position] = value
    return results


async def gather_fields(data: dict[str, Any], waiting: list[str]) -> dict[str, Any]:
    """The `get_results` of graphql-core's `execute_fields`."""
    if len(waiting) == 1:
        data[waiting[0]] = await data[waiting[0]]
        return data
    data.update(
        zip(
            waiting,
            await gather_with_cancel(*(data[key] for key in waiting)),
            strict=True,
        )
    )
    return data


async def complete_awaited(
    run: Run,
    field: FieldPlan,
    complete: Completer,
    return_type: GraphQLOutputType,
    awaitable: Awaitable[Any],
    path: Where,
) -> Any:
    """`complete_awaitable_value` (and its list-item twin)."""
    try:
        resolved = await awaitable
        run.sync()
        completed = complete(run, resolved, path)
        if run.is_awaitable(completed):
            completed = await completed
    except Exception as error:
        run.ex.handle_field_error(error, return_type, field.details, as_path(path))
        return None
    return completed


async def settle(
    run: Run,
    field: FieldPlan,
    return_type: GraphQLOutputType,
    awaitable: Awaitable[Any],
    path: Where,
) -> Any:
    """A completion still under way, its error handled at `path` (graphql-core's `await_completed`)."""
    try:
        return await awaitable
    except Exception as error:
        run.ex.handle_field_error(error, return_type, field.details, as_path(path))
        return None


def after_resolve(field: FieldPlan) -> Callable[[Run, Any, Path], Any]:
    """What `execute_field` does with a resolver's result (errors raised to the caller's handler)."""
    return_type = field.return_type

    def complete_field(run: Run, value: Any, path: Where) -> Any:
        if run.is_awaitable(value):
            return complete_awaited(run, field, field.complete, return_type, value, path)
        completed = field.complete(run, value, path)
        if type(completed) is not dict and run.is_awaitable(completed):
            return settle(run, field, return_type, completed, path)
        return completed

    return complete_field


def execute_root_field(run: Run, field: FieldPlan, root: Any) -> Any:
    """A root mutation field, through the comparison mode's observer when one watches."""
    if run.observer is None or field.resolve is None:
        return field.execute(root, None, run)
    return run.observer.execute(run, field, root)


def run_serially(run: Run, fields: list[FieldPlan], root: Any) -> Any:
    """`execute_fields_serially`: each root mutation field completes before the next one starts."""
    results: dict[str, Any] = {}
    for position, field in enumerate(fields):
        value = execute_root_field(run, field, root)
        if run.is_awaitable(value):
            return continue_serially(run, fields, position, results, value, root)
        results[field.key] = value
    return results


async def continue_serially(
    run: Run,
    fields: list[FieldPlan],
    position: int,
    results: dict[str, Any],
    pending: Awaitable[Any],
    root: Any,
) -> dict[str, Any]:
    results[fields[position].key] = await pending
    for field in fields[position + 1 :]:
        value = execute_root_field(run, field, root)
        results[field.key] = await value if run.is_awaitable(value) else value
    return results


def respond(run: Run, data: Any) -> Any:  # ExecutionResult or an awaitable of it
    """`execute_operation`'s ending: the response, or an awaitable of it."""
    ex = run.ex
    if type(data) is dict:
        return ex.build_response(data)

    async def await_result() -> Any:
        try:
            resolved = await data
        except GraphQLError as error:
            ex.collected_errors.add(error, None)
            return ex.build_response(None)
        return ex.build_response(resolved)

    return await_result()


def run_plan(plan: Plan, executor: Executor[Any], observer: Any = None) -> Any:
    """The ExecutionResult (or an awaitable of it), as `Executor.execute_operation` gives it."""
    run = Run(executor, plan.policies, observer)
    if observer is not None:
        observer.started(plan)
    try:
        if plan.serial is not None:
            data = run_serially(run, plan.serial, executor.root_value)
        else:
            data = plan.root(executor.root_value, None, run)  # type: ignore[misc]
    except GraphQLError as error:
        executor.collected_errors.add(error, None)
        return executor.build_response(None)
    return respond(run, data)
