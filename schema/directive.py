"""`@policy`: the schema directive that declares, prints and enforces who may use a field.

Field level: `field(policy=..., description=...)` attaches a Strawberry
`PermissionExtension` whose permission prints `@policy(...)` on the field and
checks the same `Policy` before the resolver runs.

Type level: `type_policy(...)` puts `@policy(...)` on an object type; it is
the policy of every field of that type that has none of its own. Types that
only carry structure (connections, edges, page info, payloads) say `ANYONE`:
they are reached only through a field with its own policy.

Default deny: `enforce_policies(schema)` runs once on the built schema. A
field with neither a policy of its own nor one on its type is refused for
everyone; a field covered only by its type's policy gets that policy checked.

Refusal: `check` raises the one error a refused field gets (`FORBIDDEN`, or
`UNAUTHENTICATED` when anonymous). A field whose policy refuses some viewer
its type's policy admits is declared nullable (`tests/schema/test_policies.py`,
`permissions.policy.refused_within`), so that error nulls the field alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo, default_field_resolver
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from core.errors import Forbidden, Unauthenticated
from permissions.policy import Permission, Policy, Role
from permissions.viewer import Viewer
from schema.describe import describe_values

strawberry.enum(Role, description="Who a policy admits; any one listed role suffices.")
strawberry.enum(Permission, description="Permissions granted through permission groups.")
describe_values(
    Role,
    {
        "ANYONE": "Everyone, signed in or not (anonymous callers included).",
        "SIGNED_IN": "Any signed-in account: employees and customer users.",
        "CUSTOMER_USER": "Customers' staff signed in to the portal.",
        "EMPLOYEE": "Staff of the service company (back office, inspectors), system administrators included.",
        "SYSTEM_ADMIN": "Employees who are system administrators.",
    },
)
describe_values(
    Permission,
    {
        "MANAGE_INSIGHT": "Configure the customer portal: customers, objects, customer users, their ticket "
        "types, document rules and evaluation.",
        "MANAGE_CHECK_TEMPLATES": "Design, publish and archive inspection form templates.",
        "MANAGE_ABSENCES": "See and handle every employee's absence requests.",
    },
)

DEFINITION_KEY = "strawberry-definition"


@strawberry.schema_directive(
    name="policy",
    locations=[Location.FIELD_DEFINITION, Location.OBJECT],
    description=(
        "Who may use this field (or, on a type, every field of it without its own "
        "policy): a viewer with any of `roles` who holds all of `permissions`. "
        "Anything without a policy is refused for everyone."
    ),
)
class PolicyDirective:
    roles: list[Role] = strawberry.field(description="Who is admitted: a viewer with any one of these roles.")
    permissions: list[Permission] = strawberry.field(
        default_factory=list, description="What an admitted viewer must also hold: all of these permissions."
    )


def directive_for(policy: Policy) -> PolicyDirective:
    return PolicyDirective(roles=list(policy.roles), permissions=list(policy.permissions))


def allows(policy: Policy, viewer: Viewer, context: Any = None) -> bool:
    """Whether `policy` admits `viewer` (answers memoised per request in `context`).

    The one policy decision: `check` raises on it, and the compiled execution
    path (`execution/`) asks it once per request for each policy a
    document touches.
    """
    answers = getattr(context, "policy_answers", None)
    if answers is None:
        return policy.allows(viewer)
    if answers.get("viewer") is not viewer:  # login swaps the viewer mid-request
        answers.clear()
        answers["viewer"] = viewer
    allowed: bool | None = answers.get(id(policy))
    if allowed is None:
        allowed = answers[id(policy)] = policy.allows(viewer)
    return allowed


def check(policy: Policy, viewer: Viewer, context: Any = None) -> None:
    """Raise the refusal for `viewer` unless `policy` allows it."""
    if allows(policy, viewer, context):
        return
    if not viewer.is_signed_in:
        raise Unauthenticated("Sign in to use this field.")
    raise Forbidden("You are not allowed to use this field.")


class PolicyPermission(BasePermission):
    """Strawberry permission that prints and checks one `Policy`."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._directive = directive_for(policy)

    @property
    def schema_directive(self) -> object:
        return self._directive

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        check(self.policy, info.context.viewer, info.context)
        return True


def with_policy_text(policy: Policy, description: str | None) -> str:
    return f"{description}\n\n{policy.describe()}" if description else policy.describe()


Resolver = TypeVar("Resolver", bound=Callable[..., Any])


def field(*, policy: Policy, description: str | None = None, **kwargs: Any) -> Callable[[Resolver], Resolver]:
    """A Strawberry field guarded by `policy`, as a decorator on its resolver.

    Typed as keeping the resolver as it is, so the type checker reads the method; at run time the
    decorator makes it a `StrawberryField`, as `@strawberry.field` does.
    """
    decorate = strawberry.field(
        description=with_policy_text(policy, description),
        extensions=[PolicyExtension(policy)],
        **kwargs,
    )
    return cast(Callable[[Resolver], Resolver], decorate)


def mutation(*, policy: Policy, description: str | None = None, **kwargs: Any) -> Callable[[Resolver], Resolver]:
    """A Strawberry mutation guarded by `policy`, as a decorator on its resolver (typed as `field`)."""
    decorate = strawberry.mutation(
        description=with_policy_text(policy, description),
        extensions=[PolicyExtension(policy)],
        **kwargs,
    )
    return cast(Callable[[Resolver], Resolver], decorate)


def described(*, description: str, **kwargs: Any) -> Callable[[Resolver], Resolver]:
    """A Strawberry field with no policy of its own, as a typed decorator on its resolver: on a type whose
    `type_policy` covers it, or declared by an interface whose implementing types bring their policies."""
    decorate = strawberry.field(description=description, **kwargs)
    return cast(Callable[[Resolver], Resolver], decorate)


def PolicyExtension(policy: Policy) -> PermissionExtension:
    return PermissionExtension([PolicyPermission(policy)])


def type_policy(policy: Policy) -> list[object]:
    """`directives=` value for `@strawberry.type` declaring the type's policy."""
    return [directive_for(policy)]


def _policies(directives: Any) -> list[Policy]:
    return [
        Policy(roles=tuple(d.roles), permissions=tuple(d.permissions))
        for d in directives or ()
        if isinstance(d, PolicyDirective)
    ]


def field_policy(graphql_field: GraphQLField) -> Policy | None:
    definition = (graphql_field.extensions or {}).get(DEFINITION_KEY)
    found = _policies(getattr(definition, "directives", None))
    return found[0] if found else None


def object_policy(graphql_type: GraphQLObjectType) -> Policy | None:
    definition = (graphql_type.extensions or {}).get(DEFINITION_KEY)
    found = _policies(getattr(definition, "directives", None))
    return found[0] if found else None


def object_fields(
    schema: strawberry.Schema,
) -> Iterator[tuple[GraphQLObjectType, str, GraphQLField]]:
    """Every field of every object type the schema serves (introspection types excluded)."""
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, graphql_field in graphql_type.fields.items():
            yield graphql_type, field_name, graphql_field


def fields_without_policy(schema: strawberry.Schema) -> list[str]:
    """`Type.field` for each field that has no policy on itself or on its type."""
    return [
        f"{graphql_type.name}.{field_name}"
        for graphql_type, field_name, graphql_field in object_fields(schema)
        if field_policy(graphql_field) is None and object_policy(graphql_type) is None
    ]


def effective_policy(graphql_type: GraphQLObjectType, graphql_field: GraphQLField) -> Policy | None:
    return field_policy(graphql_field) or object_policy(graphql_type)


NOBODY = Policy(roles=())


def _guard(resolve: Callable[..., Any] | None, policy: Policy) -> Callable[..., Any]:
    inner = resolve or default_field_resolver

    def guarded(source: Any, info: GraphQLResolveInfo[Any], **kwargs: Any) -> Any:
        check(policy, info.context.viewer, info.context)
        return inner(source, info, **kwargs)

    # What the compiled execution path reads to recognise a guarded field.
    guarded.__wrapped__ = inner  # type: ignore[attr-defined]
    guarded.policy = policy  # type: ignore[attr-defined]
    return guarded


def _describe_directive_arguments(schema: strawberry.Schema) -> None:
    # Strawberry leaves a schema directive's arguments undescribed; copy the field descriptions over.
    directive = schema._schema.get_directive("policy")
    if directive is None:
        return
    for strawberry_field in PolicyDirective.__strawberry_directive__.fields:  # type: ignore[attr-defined]
        name = schema.config.name_converter.get_graphql_name(strawberry_field)
        if name in directive.args and strawberry_field.description:
            directive.args[name].description = strawberry_field.description


def enforce_policies(schema: strawberry.Schema) -> strawberry.Schema:
    """Apply type-level policies and default deny to the built schema (once)."""
    _describe_directive_arguments(schema)
    for graphql_type, _name, graphql_field in object_fields(schema):
        if field_policy(graphql_field) is not None:
            continue  # its PermissionExtension already checks it
        policy = object_policy(graphql_type) or NOBODY
        if not policy.is_open:
            graphql_field.resolve = _guard(graphql_field.resolve, policy)
    return schema
