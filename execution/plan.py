"""A compiled plan: its fields and object functions (`runtime.run_plan` runs it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLOutputType
from graphql.execution.collect_fields import FieldDetails
from graphql.language import FieldNode
from graphql.pyutils import Path

from execution.fields import FieldShape
from permissions.policy import Policy


@dataclass(eq=False)
class FieldPlan:
    """One response key of one object selection: the field, how it runs, how its value completes."""

    key: str
    name: str
    parent: GraphQLObjectType
    definition: GraphQLField
    details: list[FieldDetails]
    shape: FieldShape
    number: int
    policy_index: int | None = None
    constant_arguments: dict[str, Any] | None = None
    children: dict[str, ObjectPlan] = dataclass_field(default_factory=dict)
    # Linked once the generated source is executed (the callables take the request's `runtime.Run`):
    complete: Callable[..., Any] = None  # type: ignore[assignment]
    after: Callable[..., Any] = None  # type: ignore[assignment]
    coerce: Callable[..., dict[str, Any]] = None  # type: ignore[assignment]
    convert: Callable[[dict[str, Any], Any], dict[str, Any]] = None  # type: ignore[assignment]
    call_async: Callable[..., Any] = None  # type: ignore[assignment]
    execute: Callable[..., Any] = None  # type: ignore[assignment]
    resolve: Callable[..., Any] | None = None
    nodes: list[FieldNode] = dataclass_field(init=False)

    def __post_init__(self) -> None:
        self.nodes = [detail.node for detail in self.details]

    @property
    def return_type(self) -> GraphQLOutputType:
        return self.definition.type

    @property
    def is_typename(self) -> bool:
        return self.shape.kind == "typename"

    @property
    def runs_in_plan(self) -> bool:
        """Resolved and completed by the plan itself (not `__typename`, not handed to graphql-core)."""
        return self.shape.kind in ("attr", "call")

    def path(self, parent: Path | None) -> Path:
        return Path(parent, self.key, self.parent.name)


@dataclass(eq=False)
class ObjectPlan:
    """The grouped fields of one selection on one object type, compiled to function `o<index>`."""

    index: int
    type: GraphQLObjectType
    fields: list[FieldPlan]


@dataclass(eq=False)
class Plan:
    """One validated operation (for one set of @skip/@include values), ready to run."""

    root: Callable[..., Any] | None
    serial: list[FieldPlan] | None
    policies: tuple[Policy, ...]
    is_awaitable: Callable[[Any], bool]
    fields: list[FieldPlan]
    source: str

    @property
    def delegated(self) -> list[FieldPlan]:
        """Fields this plan hands to graphql-core's executor because their shape is unknown here."""
        return [f for f in self.fields if f.shape.kind == "generic"]
