"""How one field of the built schema runs, read from Strawberry's definition of it.

`FieldShapes.shape(parent, name, field)` tells the compiler how to run a field
without graphql-core's and Strawberry's per-call wrappers: read the attribute
(`attr`), call the resolver with only what it asks for (`call`), or hand the
field to graphql-core's executor (`generic`) when the shape is not one this
module recognises. The policy guarding the field comes with it: the field's
own `@policy` (a Strawberry `PermissionExtension` holding one
`schema.directive.PolicyPermission`) or its type's (the guard
`schema.directive.enforce_policies` wraps around the resolver).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from inspect import isasyncgenfunction
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLObjectType
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.field import StrawberryField

from permissions.policy import Policy
from schema.directive import (
    DEFINITION_KEY,
    PolicyPermission,
    field_policy,
    object_policy,
)

STRAWBERRY_RESOLVERS = ("_resolver", "_async_resolver", "_get_basic_result")


@dataclass(frozen=True)
class FieldShape:
    """What running a field takes; `reason` says why a `generic` field is one."""

    kind: str
    reason: str = ""
    python_name: str = ""
    getter: Callable[[Any, str], Any] | None = None
    function: Callable[..., Any] | None = None
    passes_self: bool = False
    source_params: tuple[str, ...] = ()
    info_param: str | None = None
    is_async: bool = False
    strawberry_field: StrawberryField | None = None
    arguments: tuple[StrawberryArgument, ...] = ()
    argument_maps: tuple[Callable[[dict[str, Any]], dict[str, Any]], ...] = ()
    policy: Policy | None = None

    @property
    def takes_info(self) -> bool:
        return self.info_param is not None


def generic(reason: str, policy: Policy | None = None) -> FieldShape:
    return FieldShape(kind="generic", reason=reason, policy=policy)


def is_strawberry_resolver(resolve: Any) -> bool:
    """The resolver Strawberry's schema converter builds for a field (`from_resolver`)."""
    qualname = getattr(resolve, "__qualname__", "")
    return (
        getattr(resolve, "_is_default", None) is not None
        and qualname.startswith("GraphQLCoreConverter.from_resolver.<locals>.")
        and qualname.rsplit(".", 1)[-1] in STRAWBERRY_RESOLVERS
    )


def own_policy(definition: StrawberryField, declared: Policy) -> Policy | None:
    """The policy object the field's `PermissionExtension` checks, if that is all it has."""
    if len(definition.extensions) != 1:
        return None
    extension = definition.extensions[0]
    if not isinstance(extension, PermissionExtension) or extension.fail_silently:
        return None
    if len(extension.permissions) != 1 or not isinstance(extension.permissions[0], PolicyPermission):
        return None
    policy = extension.permissions[0].policy
    return policy if policy == declared else None


class FieldShapes:
    """Shapes of the fields of one Strawberry schema, worked out once per field."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self.converter = schema.schema_converter
        self._shapes: dict[tuple[str, str], FieldShape] = {}

    def shape(self, parent: GraphQLObjectType, name: str, graphql_field: GraphQLField) -> FieldShape:
        key = (parent.name, name)
        found = self._shapes.get(key)
        if found is None:
            found = self._shapes[key] = self._work_out(parent, graphql_field)
        return found

    def _work_out(self, parent: GraphQLObjectType, graphql_field: GraphQLField) -> FieldShape:
        definition = (graphql_field.extensions or {}).get(DEFINITION_KEY)
        if not isinstance(definition, StrawberryField):
            return generic("no Strawberry field definition")
        resolve = graphql_field.resolve
        declared = field_policy(graphql_field)
        if declared is not None:
            policy = own_policy(definition, declared)
            if policy is None:
                return generic("field extensions other than its @policy", declared)
        elif definition.extensions:
            return generic("field extensions other than a @policy")
        else:
            type_policy = object_policy(parent)
            policy = None
            if type_policy is None or not type_policy.is_open:
                policy = getattr(resolve, "policy", None)
                resolve = getattr(resolve, "__wrapped__", None)
                if policy is None or policy != (type_policy or policy):
                    return generic("resolver not guarded as schema.directive guards it")
        if not is_strawberry_resolver(resolve):
            return generic("resolver not built by Strawberry", policy)
        if self.converter._get_field_exception_handlers(definition):
            return generic("Strawberry exception handlers", policy)
        return self._runnable(definition, policy)

    def _runnable(self, definition: StrawberryField, policy: Policy | None) -> FieldShape:
        maps = tuple(
            extension.map_arguments
            for extension in definition.extensions
            if type(extension).map_arguments is not FieldExtension.map_arguments
        )
        resolver = definition.base_resolver
        if resolver is None:
            if definition.arguments:
                return generic("arguments without a resolver", policy)
            getter = definition.default_resolver
            return FieldShape(
                kind="attr",
                python_name=definition.python_name,
                getter=None if getter is builtins.getattr else getter,
                strawberry_field=definition,
                policy=policy,
            )
        function = resolver.wrapped_func
        if not callable(function) or isasyncgenfunction(resolver._unbound_wrapped_func):
            return generic("resolver is not a plain function", policy)
        sources = tuple(
            parameter.name
            for parameter in (resolver.parent_parameter, resolver.root_parameter)
            if parameter is not None
        )
        info = resolver.info_parameter.name if resolver.info_parameter is not None else None
        names = {argument.python_name for argument in definition.arguments}
        if info in names or names & set(sources):
            return generic("an argument shares its name with a reserved parameter", policy)
        return FieldShape(
            kind="call",
            python_name=definition.python_name,
            function=function,
            passes_self=resolver.self_parameter is not None,
            source_params=sources,
            info_param=info,
            is_async=definition.is_async,
            strawberry_field=definition,
            arguments=tuple(definition.arguments),
            argument_maps=maps,
            policy=policy,
        )
