"""Count (and list) what the built schema leaves undescribed: types, fields, arguments, input fields, enum values.

A field whose description is only the generated policy line ("Allowed for: …",
`schema.directive.with_policy_text`) counts as undescribed: the line says who may
use the field, not what it is. Introspection types and the built-in scalars are left out.

    python -m tools.schema_descriptions            # the counts, then every straggler as Type.field(arg)
    python -m tools.schema_descriptions --counts   # the counts only
    python -m tools.schema_descriptions --check    # exit 1 while anything is missing (make check-descriptions)
"""

from __future__ import annotations

import importlib
import re
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    is_specified_scalar_type,
)

POLICY_LINE = re.compile(r"^Allowed for: [^\n]*$")
KINDS = ("type", "field", "argument", "input field", "enum value")
SPECIFIED_DIRECTIVES = {"include", "skip", "deprecated", "specifiedBy", "oneOf", "defer", "stream"}


def described(description: str | None) -> bool:
    """Whether a description says something beyond the generated policy line."""
    if not description or not description.strip():
        return False
    return not POLICY_LINE.fullmatch(description.strip())


def _members(name: str, named: Any) -> Iterator[tuple[str, str, str | None]]:
    """(kind, coordinate, description) of a named type's fields, arguments, input fields or enum values."""
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for field_name, field in named.fields.items():
            yield "field", f"{name}.{field_name}", field.description
            for arg_name, arg in field.args.items():
                yield "argument", f"{name}.{field_name}({arg_name}:)", arg.description
    elif isinstance(named, GraphQLInputObjectType):
        for field_name, input_field in named.fields.items():
            yield "input field", f"{name}.{field_name}", input_field.description
    elif isinstance(named, GraphQLEnumType):
        for value_name, value in named.values.items():
            yield "enum value", f"{name}.{value_name}", value.description


def missing(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    """(kind, coordinate) of everything undescribed, in type-map order."""
    for name, named in sorted(schema.type_map.items()):
        if name.startswith("__") or is_specified_scalar_type(named):
            continue
        if not described(named.description):
            yield "type", name
        for kind, where, description in _members(name, named):
            if not described(description):
                yield kind, where
    for directive in schema.directives:
        if directive.name in SPECIFIED_DIRECTIVES:
            continue
        for arg_name, arg in directive.args.items():
            if not described(arg.description):
                yield "argument", f"@{directive.name}({arg_name}:)"


def main(argv: list[str]) -> int:
    # Imported by name: builds the whole schema (only when run), and keeps mypy in its layers.
    built = importlib.import_module("execution.schema").schema
    found = list(missing(built._schema))
    counts = Counter(kind for kind, _ in found)
    print("missing descriptions: " + ", ".join(f"{counts[k]} {k}s" for k in KINDS) + f"; {len(found)} in all")
    if "--counts" not in argv:
        for kind, where in found:
            print(f"  {kind:12} {where}")
    return 1 if found and "--check" in argv else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
