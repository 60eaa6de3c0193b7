"""Compiling one validated operation to Python source, the way graphql-jit does it for JavaScript.

The fields are collected exactly as graphql-core collects them (its own
`collect_fields`/`collect_subfields`, with this request's @skip/@include
values), once per object type a selection can meet. Each object selection
becomes one generated function `o<n>(source, path, run)` that runs its fields
in order with their common cases inlined: a plain attribute read, a resolver
called with only what it asks for, a leaf value of the expected Python type,
an object of a class already checked. Everything else (awaitables, lists,
abstract types, odd values, errors) goes through `execution.runtime`,
which does what graphql-core's executor does; fields of an unknown shape and
fields whose policy refuses the viewer are handed to graphql-core's
`execute_field` as they are.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from typing import Any, cast

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    OperationType,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_composite_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.executor import Executor
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode, VariableNode, Visitor, visit
from graphql.pyutils import Undefined
from strawberry.types.arguments import convert_arguments
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.unset import UNSET

from execution.fields import FieldShape, FieldShapes
from execution.plan import FieldPlan, ObjectPlan, Plan
from execution.runtime import (
    PlanInfo,
    Run,
    Where,
    accepted,
    after_resolve,
    completer,
    gather_fields,
    settle,
)
from permissions.policy import Policy

INTROSPECTION = {"__schema", "__type"}
INT_RANGE = "-2147483648 <= v <= 2147483647"
# Python classes a builtin scalar passes through unchanged (graphql-core's serializers).
PASS_THROUGH = {
    GraphQLString: "type(v) is str",
    GraphQLID: "type(v) is str",
    GraphQLBoolean: "type(v) is bool",
    GraphQLInt: f"type(v) is int and {INT_RANGE}",
    GraphQLFloat: "type(v) is float and ISFINITE(v)",
}
ISO_CLASSES = (datetime, date, time)
TYPENAME = FieldShape(kind="typename")


class Unsupported(Exception):
    """A document this compiler leaves to graphql-core's executor (the message says why)."""


class Compiler:
    """Compiles the operation of one `Executor` (its document, operation and variable values)."""

    def __init__(
        self,
        executor: Executor[Any],
        shapes: FieldShapes,
        strawberry_converter: Any,
        is_awaitable: Callable[[Any], bool],
    ) -> None:
        self.ex = executor
        self.schema = executor.schema
        self.shapes = shapes
        self.converter = strawberry_converter
        self.is_awaitable = is_awaitable
        self.objects: list[ObjectPlan] = []
        self.fields: list[FieldPlan] = []
        self.policies: list[Policy] = []
        self.namespace: dict[str, Any] = {
            "PlanInfo": PlanInfo,
            "ISAW": is_awaitable,
            "SETTLE": settle,
            "GATHER": gather_fields,
            "CAST": TYPE_CAST_ATTRIBUTE,
            "UNDEF": Undefined,
            "ISFINITE": math.isfinite,
        }
        self.lines: list[str] = []

    # -- walking the operation ---------------------------------------------------------------

    def compile(self) -> Plan:
        operation = self.ex.operation
        if operation.operation not in (OperationType.QUERY, OperationType.MUTATION):
            raise Unsupported(f"{operation.operation.value} operation")
        if operation.directives:
            raise Unsupported("directives on the operation")
        if any(fragment.variable_signatures for fragment in self.ex.fragments.values()):
            raise Unsupported("fragment variables")
        root_type = self.schema.get_root_type(operation.operation)
        if root_type is None:
            raise Unsupported("no root type for the operation")
        grouped, defers, _ = collect_fields(
            self.schema,
            self.ex.fragments,
            self.ex.variable_values,
            root_type,
            operation,
            self.ex.hide_suggestions,
        )
        if defers:
            raise Unsupported("@defer")
        root = self.object_plan(root_type, grouped)
        serial = operation.operation is OperationType.MUTATION
        source = self.emit(root, serial)
        exec(
            compile(
                source,
                f"<graphql plan {operation.name.value if operation.name else ''}>",
                "exec",
            ),
            self.namespace,
        )
        self.link(root, serial)
        return Plan(
            root=None if serial else self.namespace["o0"],
            serial=root.fields if serial else None,
            policies=tuple(self.policies),
            is_awaitable=self.is_awaitable,
            fields=self.fields,
            source=source,
        )

    def object_plan(self, type_: GraphQLObjectType, grouped: dict[str, list[FieldDetails]]) -> ObjectPlan:
        plan = ObjectPlan(index=len(self.objects), type=type_, fields=[])
        self.objects.append(plan)
        for key, details in grouped.items():
            field = self.field_plan(type_, key, details)
            if field is not None:
                plan.fields.append(field)
        return plan

    def field_plan(self, parent: GraphQLObjectType, key: str, details: list[FieldDetails]) -> FieldPlan | None:
        name = details[0].node.name.value
        if name in INTROSPECTION:
            raise Unsupported("introspection")
        definition = self.schema.get_field(parent, name)
        if definition is None:
            return None  # graphql-core leaves it out of the response as well
        if any(detail.fragment_variable_values is not None or detail.defer_usage is not None for detail in details):
            raise Unsupported("fragment variables or @defer")
        shape = self.shapes.shape(parent, name, definition) if name != "__typename" else TYPENAME
        field = FieldPlan(
            key=key,
            name=name,
            parent=parent,
            definition=definition,
            details=details,
            shape=shape,
            number=len(self.fields),
        )
        self.fields.append(field)
        if shape.kind != "attr" and shape.kind != "call":
            return field
        if shape.policy is not None and not shape.policy.is_open:
            field.policy_index = self.policy_index(shape.policy)
        field.constant_arguments = self.constant_arguments(field)
        named = get_named_type(definition.type)
        if is_composite_type(named):
            types = self.schema.get_possible_types(named) if is_abstract_type(named) else [named]
            for type_ in cast("list[GraphQLObjectType]", types):
                sub, defers, _ = collect_subfields(
                    self.schema,
                    self.ex.fragments,
                    self.ex.variable_values,
                    self.ex.operation,
                    type_,
                    details,
                    self.ex.hide_suggestions,
                )
                if defers:
                    raise Unsupported("@defer")
                field.children[type_.name] = self.object_plan(type_, sub)
        return field

    def policy_index(self, policy: Policy) -> int:
        if policy not in self.policies:
            self.policies.append(policy)
        return self.policies.index(policy)

    def constant_arguments(self, field: FieldPlan) -> dict[str, Any] | None:
        """The coerced arguments when no variable is involved (graphql-core's values, computed once)."""
        node = field.details[0].node
        if not (field.definition.args or node.arguments):
            return {}
        if uses_variables(node):
            return None
        try:
            return get_argument_values(
                field.definition,
                node,
                self.ex.variable_values,
                None,
                self.ex.hide_suggestions,
            )
        except Exception:  # noqa: BLE001 - the same error is raised again, in its place, at run time
            return None

    # -- emitting source ---------------------------------------------------------------------

    def emit(self, root: ObjectPlan, serial: bool) -> str:
        for plan in self.objects:
            if plan is root and serial:
                for field in root.fields:
                    self.emit_root_field(field)
            else:
                self.emit_object(plan)
        return "\n".join(self.lines) + "\n"

    def emit_object(self, plan: ObjectPlan) -> None:
        out = self.lines
        out.append(f"def o{plan.index}(s, p, rt):")
        if any(field.policy_index is not None for field in plan.fields):
            out.append("    V = rt.verdicts")
        out.append("    d = {}")
        out.append("    pend = None")
        out.append("    try:")
        for field in plan.fields:
            self.emit_field(out, "        ", field, store=True)
        if not plan.fields:
            out.append("        pass")
        out.append("    except Exception:")
        out.append("        if pend:")
        out.append("            rt.ex.settle_in_background([d[k] for k in pend])")
        out.append("        raise")
        out.append("    if not pend:")
        out.append("        return d")
        out.append("    return GATHER(d, pend)")
        out.append("")

    def emit_root_field(self, field: FieldPlan) -> None:
        """A root mutation field as its own function (`x<n>`), and its resolver alone (`r<n>`)."""
        number = field.number
        out = self.lines
        out.append(f"def x{number}(s, p, rt):")
        if field.policy_index is not None:
            out.append("    V = rt.verdicts")
        self.emit_field(out, "    ", field, store=False)
        out.append("    return v")
        out.append("")
        if field.runs_in_plan:
            out.append(f"def r{number}(s, fp, rt):")
            self.emit_resolve(out, "    ", number, field)
            out.append("    return v")
            out.append("")

    def emit_field(self, out: list[str], at: str, field: FieldPlan, *, store: bool) -> None:
        number = field.number
        key = repr(field.key)
        self.namespace[f"F{number}"] = field
        if field.is_typename:
            out.append(f"{at}v = {field.parent.name!r}")
            if store:
                out.append(f"{at}d[{key}] = v")
            return
        path = f"(p, {key}, {field.parent.name!r})"
        waiting = f"(pend := pend or []).append({key})" if store else ""
        if not field.runs_in_plan:
            self.emit_generic(out, at, number, path, waiting)
        elif field.policy_index is None:
            self.emit_fast(out, at, number, field, path, waiting)
        else:
            out.append(f"{at}if V[{field.policy_index}]:")
            self.emit_fast(out, at + "    ", number, field, path, waiting)
            out.append(f"{at}else:")
            self.emit_generic(out, at + "    ", number, path, waiting, how="execute_refused")
        if store:
            out.append(f"{at}d[{key}] = v")

    def emit_generic(
        self,
        out: list[str],
        at: str,
        number: int,
        path: str,
        waiting: str,
        how: str = "execute_field",
    ) -> None:
        """graphql-core's own `execute_field` (refused fields, fields of a shape unknown here)."""
        out.append(f"{at}v = rt.{how}(F{number}, s, {path})")
        if waiting:
            out.append(f"{at}if ISAW(v):")
            out.append(f"{at}    {waiting}")

    def emit_fast(
        self,
        out: list[str],
        at: str,
        number: int,
        field: FieldPlan,
        path: str,
        waiting: str,
    ) -> None:
        needs_path = field.shape.kind == "call" or is_composite_type(get_named_type(field.return_type))
        if needs_path:
            out.append(f"{at}fp = {path}")
            path = "fp"
        out.append(f"{at}try:")
        self.emit_resolve(out, at + "    ", number, field, path)
        self.emit_completion(out, at + "    ", number, field, path, waiting)
        out.append(f"{at}except Exception as e:")
        out.append(f"{at}    v = rt.fail(e, F{number}, {path})")

    def emit_resolve(self, out: list[str], at: str, number: int, field: FieldPlan, path: str = "fp") -> None:
        shape = field.shape
        if shape.kind == "attr":
            name = shape.python_name
            if shape.getter is not None:
                self.namespace[f"G{number}"] = shape.getter
                out.append(f"{at}v = G{number}(s, {name!r})")
            elif name.isidentifier() and not keyword.iskeyword(name):
                out.append(f"{at}v = s.{name}")
            else:
                out.append(f"{at}v = getattr(s, {name!r})")
            return
        arguments = bool(field.definition.args or field.details[0].node.arguments)
        if shape.is_async:
            coerced = f"F{number}.coerce(rt)" if arguments else "None"
            out.append(f"{at}v = F{number}.call_async(rt, s, {path}, {coerced})")
            return
        self.namespace[f"FN{number}"] = shape.function
        call = ["s"] if shape.passes_self else []
        if shape.takes_info or arguments:
            out.append(f"{at}inf = PlanInfo()")
            out.append(f"{at}inf._at = (rt, F{number}, {path})")
        if arguments:
            out.append(f"{at}kw = F{number}.convert(F{number}.coerce(rt), inf)")
            call.append("**kw")
        call.extend(f"{name}=s" for name in shape.source_params)
        if shape.takes_info:
            call.append(f"{shape.info_param}=inf")
        out.append(f"{at}v = FN{number}({', '.join(call)})")
        if shape.takes_info and self.policies:
            out.append(f"{at}if rt.viewer is not rt.context.viewer:")
            out.append(f"{at}    rt.sync()")

    def emit_completion(
        self,
        out: list[str],
        at: str,
        number: int,
        field: FieldPlan,
        path: str,
        waiting: str,
    ) -> None:
        """Inline the common completions of `v`; the rest goes to the field's `after`."""
        type_ = field.return_type
        nullable = not is_non_null_type(type_)
        named = get_nullable_type(type_)
        slow = [f"v = F{number}.after(rt, v, {path})"]
        if waiting:
            slow += ["if ISAW(v):", f"    {waiting}"]
        if named in PASS_THROUGH:
            test = f"v is not None and not ({PASS_THROUGH[named]})" if nullable else f"not ({PASS_THROUGH[named]})"
            out.append(f"{at}if {test}:")
            out.extend(f"{at}    {line}" for line in slow)
        elif isinstance(named, GraphQLEnumType) and self.enum_names(number, named):
            inner = at
            if nullable:
                out.append(f"{at}if v is not None:")
                inner = at + "    "
            out.append(f"{inner}n = EM{number}.get(v) if type(v) is EC{number} else None")
            out.append(f"{inner}if n is not None:")
            out.append(f"{inner}    v = n")
            out.append(f"{inner}else:")
            out.extend(f"{inner}    {line}" for line in slow)
        elif isinstance(named, GraphQLScalarType) and self.iso_scalar(number, named):
            out.append(f"{at}if type(v) is SC{number}:")
            out.append(f"{at}    c = SS{number}(v)")
            out.append(f"{at}    v = c if c is not None and c is not UNDEF else F{number}.after(rt, v, {path})")
            out.append(f"{at}elif v is not None:" if nullable else f"{at}else:")
            out.extend(f"{at}    {line}" for line in slow)
        elif is_object_type(named) and len(field.children) == 1:
            self.emit_object_completion(out, at, number, field, named, path, waiting, slow, nullable)
        elif nullable:
            out.append(f"{at}if v is not None:")
            out.extend(f"{at}    {line}" for line in slow)
        else:
            out.extend(f"{at}{line}" for line in slow)

    def emit_object_completion(
        self,
        out: list[str],
        at: str,
        number: int,
        field: FieldPlan,
        type_: Any,
        path: str,
        waiting: str,
        slow: list[str],
        nullable: bool,
    ) -> None:
        self.namespace[f"OK{number}"] = accepted(type_)
        test = f"type(v) in OK{number}"
        if type_.is_type_of is not None:
            test += " and CAST not in v.__dict__"
        child = field.children[type_.name].index
        if nullable:
            out.append(f"{at}if v is None:")
            out.append(f"{at}    pass")
        out.append(f"{at}{'elif' if nullable else 'if'} {test}:")
        out.append(f"{at}    v = o{child}(v, {path}, rt)")
        out.append(f"{at}    if type(v) is not dict:")
        out.append(f"{at}        v = SETTLE(rt, F{number}, F{number}.return_type, v, {path})")
        if waiting:
            out.append(f"{at}        {waiting}")
        out.append(f"{at}else:")
        out.extend(f"{at}    {line}" for line in slow)

    def enum_names(self, number: int, type_: GraphQLEnumType) -> bool:
        """The GraphQL name of each member of a Strawberry enum's class, as its type coerces it."""
        cls = getattr(type_, "wrapped_cls", None)
        if cls is None:
            return False
        names = {}
        for member in cls:
            try:
                names[member] = type_.coerce_output_value(member)
            except Exception:  # noqa: BLE001 - such a member takes the slow path and fails there
                continue
        self.namespace[f"EC{number}"] = cls
        self.namespace[f"EM{number}"] = names
        return True

    def iso_scalar(self, number: int, type_: GraphQLScalarType) -> bool:
        """Strawberry's date/time scalars: a value of the scalar's own class is serialised directly."""
        definition = (type_.extensions or {}).get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        if origin not in ISO_CLASSES:
            return False
        self.namespace[f"SC{number}"] = origin
        self.namespace[f"SS{number}"] = type_.coerce_output_value
        return True

    # -- linking the executed source ---------------------------------------------------------

    def link(self, root: ObjectPlan, serial: bool) -> None:
        registry = self.converter.scalar_registry
        config = self.converter.config
        for number, field in enumerate(self.fields):
            if serial and field in root.fields:
                field.execute = self.namespace[f"x{number}"]
                field.resolve = self.namespace.get(f"r{number}")
            if not field.runs_in_plan:
                continue
            objects = {name: self.namespace[f"o{plan.index}"] for name, plan in field.children.items()}
            field.complete = completer(field, field.return_type, objects, self.schema)
            field.after = after_resolve(field)
            field.coerce = coercer(field)
            field.convert = converter(field, registry, config)
            if field.shape.is_async:
                field.call_async = async_caller(field)


def uses_variables(node: FieldNode) -> bool:
    found = False

    class Finder(Visitor):
        def enter_variable(self, *_: Any) -> None:
            nonlocal found
            found = True

    for argument in node.arguments or ():
        if isinstance(argument.value, VariableNode):
            return True
        visit(argument.value, Finder())
    return found


def coercer(field: FieldPlan) -> Callable[[Run], dict[str, Any]]:
    """graphql-core's `get_argument_values` for the field (computed once when no variable is involved)."""
    constant = field.constant_arguments
    if constant is not None:
        return lambda run: constant
    definition, node = field.definition, field.details[0].node
    return lambda run: get_argument_values(definition, node, run.ex.variable_values, None, run.ex.hide_suggestions)


def converter(field: FieldPlan, registry: Any, config: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Strawberry's argument conversion (input objects, enums, Python names) and its extensions' maps."""
    arguments = list(field.shape.arguments)
    maps = field.shape.argument_maps
    constant = field.constant_arguments
    converted: dict[str, Any] = {}

    def convert(coerced: dict[str, Any], info: Any) -> dict[str, Any]:
        if converted and coerced is constant:
            return dict(converted)
        kwargs = convert_arguments(coerced, arguments, scalar_registry=registry, config=config, info=info)
        for argument_map in maps:
            kwargs = argument_map(kwargs)
        if coerced is constant and not maps and all(map(immutable, kwargs.values())):
            converted.update(kwargs)  # the same values every time: converted once
        return kwargs

    return convert


def immutable(value: Any) -> bool:
    """A value no resolver can change in place (so one converted copy may serve every call)."""
    return value is None or value is UNSET or type(value) in (bool, int, float, str) or isinstance(value, Enum)


def async_caller(field: FieldPlan) -> Callable[..., Any]:
    """An `async def` resolver called as Strawberry's async wrapper calls it (arguments converted inside)."""
    shape = field.shape
    function = shape.function
    assert function is not None

    async def call_async(run: Run, source: Any, path: Where, coerced: dict[str, Any] | None) -> Any:
        info = PlanInfo()
        info._at = (run, field, path)
        kwargs = field.convert(coerced, info) if coerced is not None else {}
        for name in shape.source_params:
            kwargs[name] = source
        if shape.info_param is not None:
            kwargs[shape.info_param] = info
        if shape.passes_self:
            return await function(source, **kwargs)
        return await function(**kwargs)

    return call_async
