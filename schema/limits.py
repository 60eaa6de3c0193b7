"""Query limits, checked before anything executes.

Each limit comes from `Settings` (environment variables, see README.md) and
refuses a request with its own `extensions.code`:

- `QUERY_TOO_DEEP` — selections nested deeper than `max_query_depth` (12);
  introspection fields count too, but below `__schema`/`__type` the limit is
  at least `INTROSPECTION_DEPTH` so GraphiQL's introspection query passes.
- `TOO_MANY_ALIASES` — more than `max_aliases` (30) aliases in the document.
- `TOO_MANY_TOKENS` — a document longer than `max_tokens` (2000) tokens;
  the parser stops there.
- `TOO_MANY_MUTATIONS` — more than `max_mutations` (5) mutation fields in one
  operation.
- `QUERY_TOO_COMPLEX` — the estimated cost exceeds `max_query_cost` (50000):
  every field costs 1, multiplied by the `first` of each enclosing connection
  (20 when absent, never more than 100, variables read).
- `INTROSPECTION_DISABLED` — `__schema`/`__type` while introspection is off
  (the default in production).

Depth, aliases, mutations and introspection are graphql-core validation rules
(cached with the validation result); the cost needs the variables, so it is
computed after validation and before execution.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)
from graphql import language as graphql_language
from graphql.language import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)
from graphql.utilities import value_from_ast_untyped
from graphql.validation import ASTValidationRule, ValidationContext
from strawberry.extensions import SchemaExtension

from core.settings import Settings
from schema.relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

INTROSPECTION_DEPTH = 16
INTROSPECTION_ROOTS = {"__schema", "__type"}


def _error(message: str, nodes: Any, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code, **extensions})


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def selection_depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str] = frozenset(),
) -> tuple[int, int]:
    """(depth of ordinary fields, depth of introspection subtrees) below `selection_set`."""
    if selection_set is None:
        return 0, 0
    plain = introspection = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            below_plain, below_intro = selection_depth(selection.selection_set, fragments, visiting)
            if selection.name.value in INTROSPECTION_ROOTS:
                introspection = max(introspection, 1 + max(below_plain, below_intro))
            else:
                plain = max(plain, 1 + below_plain)
                introspection = max(introspection, 1 + below_intro if below_intro else 0)
            continue
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:
                continue  # unknown fragments and cycles are other rules' errors
            below = selection_depth(fragment.selection_set, fragments, visiting | {name})
        elif isinstance(selection, InlineFragmentNode):
            below = selection_depth(selection.selection_set, fragments, visiting)
        else:
            continue
        plain, introspection = max(plain, below[0]), max(introspection, below[1])
    return plain, introspection


@lru_cache(maxsize=32)
def validation_rules(
    max_depth: int, max_aliases: int, max_mutations: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    """The limit rules for one configuration; cached so the validation cache can reuse results."""

    class DepthLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = _fragments(self.context.document)
            plain, intro = selection_depth(node.selection_set, fragments)
            if plain > max_depth or intro > max(max_depth, INTROSPECTION_DEPTH):
                self.report_error(
                    _error(
                        f"The query is nested too deeply (at most {max_depth} levels).",
                        node,
                        "QUERY_TOO_DEEP",
                        limit=max_depth,
                    )
                )

    class AliasLimit(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.count = 0

        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.alias is not None:
                self.count += 1

        def leave_document(self, node: DocumentNode, *_: Any) -> None:
            if self.count > max_aliases:
                self.report_error(
                    _error(
                        f"The query uses {self.count} aliases; at most {max_aliases} are allowed.",
                        None,
                        "TOO_MANY_ALIASES",
                        limit=max_aliases,
                    )
                )

    class MutationLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            if node.operation is not OperationType.MUTATION:
                return
            count = _count_root_fields(node.selection_set, _fragments(self.context.document))
            if count > max_mutations:
                self.report_error(
                    _error(
                        f"One request may run at most {max_mutations} mutations, not {count}.",
                        node,
                        "TOO_MANY_MUTATIONS",
                        limit=max_mutations,
                    )
                )

    class NoIntrospection(ASTValidationRule):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.name.value in INTROSPECTION_ROOTS:
                self.report_error(_error("Introspection is disabled on this server.", node, "INTROSPECTION_DISABLED"))

    rules: list[type[ASTValidationRule]] = [DepthLimit, AliasLimit, MutationLimit]
    if not introspection:
        rules.append(NoIntrospection)
    return tuple(rules)


def _count_root_fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str] = frozenset(),
) -> int:
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += selection.name.value != "__typename"
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and selection.name.value not in visiting:
                count += _count_root_fields(fragment.selection_set, fragments, visiting | {selection.name.value})
        elif isinstance(selection, InlineFragmentNode):
            count += _count_root_fields(selection.selection_set, fragments, visiting)
    return count


def _page_size(field: FieldNode, variables: dict[str, Any]) -> int | None:
    """The `first` or `last` a connection field asks for (20 when it gives neither)."""
    for argument in field.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        if isinstance(argument.value, VariableNode):
            value = variables.get(argument.value.name.value)
        else:
            value = value_from_ast_untyped(argument.value)
        if not isinstance(value, int):
            return DEFAULT_PAGE_SIZE
        return min(max(value, 0), MAX_PAGE_SIZE)
    return DEFAULT_PAGE_SIZE


def cost_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables `query_cost` reads: those given as `first` or `last` anywhere in `document`."""
    names: set[str] = set()

    class Visitor(graphql_language.Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if node.name.value in ("first", "last") and isinstance(node.value, VariableNode):
                names.add(node.value.name.value)

    graphql_language.visit(document, Visitor())
    return tuple(sorted(names))


def query_cost(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> int:
    """Every field costs 1 times the `first` of each connection it is nested in."""
    fragments = _fragments(document)
    root = schema.get_root_type(operation.operation)

    def walk(
        selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, factor: int, visiting: frozenset[str]
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name == "__typename":
                    continue
                total += factor
                definition = None
                if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
                    definition = parent.fields.get(name)
                if name == "__schema":
                    child: GraphQLNamedType | None = schema.get_type("__Schema")
                elif name == "__type":
                    child = schema.get_type("__Type")
                else:
                    child = get_named_type(definition.type) if definition else None
                size = _page_size(selection, variables) if definition and "first" in definition.args else None
                total += walk(selection.selection_set, child, factor * (size if size is not None else 1), visiting)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None or selection.name.value in visiting:
                    continue
                total += walk(
                    fragment.selection_set,
                    schema.get_type(fragment.type_condition.name.value),
                    factor,
                    visiting | {selection.name.value},
                )
            elif isinstance(selection, InlineFragmentNode):
                child = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                total += walk(selection.selection_set, child, factor, visiting)
        return total

    return walk(operation.selection_set, root, 1, frozenset())


class QueryLimits(SchemaExtension):
    """Adds the limit rules to validation, caps tokens at parse time, and refuses
    over-budget queries after validation, before execution."""

    cost: int | None = None

    def _settings(self) -> Settings:
        settings: Settings = self.execution_context.context.settings
        return settings

    def get_results(self) -> dict[str, Any]:
        """`extensions.cost` on every answer: the estimate (null when the document does not
        parse or names no single operation) and the budget."""
        context = self.execution_context
        if self.cost is None and context.graphql_document is not None:
            operation = self._operation(context.graphql_document, context.operation_name)
            if operation is not None:
                try:
                    self.cost = query_cost(
                        context.schema._schema, context.graphql_document, operation, context.variables or {}
                    )
                except Exception:  # an invalid document may not be walkable; the estimate is then unknown
                    self.cost = None
        return {"cost": {"requested": self.cost, "limit": self._settings().max_query_cost}}

    def on_operation(self) -> Iterator[None]:
        settings = self._settings()
        self.execution_context.parse_options["max_tokens"] = settings.max_tokens
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            *validation_rules(
                settings.max_query_depth, settings.max_aliases, settings.max_mutations, settings.introspection
            ),
        )
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        budget = self._settings().max_query_cost
        if document is not None and context.result is None:
            operation = self._operation(document, context.operation_name)
            if operation is not None:
                cost = self.cost = query_cost(context.schema._schema, document, operation, context.variables or {})
                if cost > budget:
                    context.result = ExecutionResult(
                        data=None,
                        errors=[
                            _error(
                                f"The query is too complex: its estimated cost {cost} exceeds "
                                f"the budget of {budget}. Ask for smaller pages (`first`).",
                                operation,
                                "QUERY_TOO_COMPLEX",
                                cost=cost,
                                limit=budget,
                            )
                        ],
                    )
        yield

    @staticmethod
    def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if name is None:
            return operations[0] if len(operations) == 1 else None
        return next((o for o in operations if o.name and o.name.value == name), None)
