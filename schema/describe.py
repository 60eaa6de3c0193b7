"""Descriptions for enum values whose enums live below the schema layer (models, permissions).

`describe_values(TicketStatus, {"OPEN": "...", ...})` right after `strawberry.enum(...)`
puts a description on each named value; a name that is no member fails at import, so a
renamed value cannot keep a stale text. `python -m tools.schema_descriptions` lists
values still undescribed.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


def describe_values(enum: type[Enum], descriptions: dict[str, str]) -> None:
    definition: Any = getattr(enum, "__strawberry_definition__", None)
    if definition is None:
        raise TypeError(f"{enum.__name__} is not a Strawberry enum yet: call strawberry.enum first")
    values = {value.name: value for value in definition.values}
    unknown = set(descriptions) - set(values)
    if unknown:
        raise LookupError(f"{enum.__name__} has no values {sorted(unknown)}")
    for name, text in descriptions.items():
        values[name].description = text
