"""Global IDs: `base64url("Type:pk")`, opaque to clients, decoded at the edge."""

from __future__ import annotations

import base64
import binascii
import functools

import strawberry

from core.errors import BadUserInput, NotFound

# Primary keys are `IntField`s: 32-bit signed integers on PostgreSQL (SQLite's
# are wider, but no row gets a larger id there either). A larger number names
# nothing and would overflow the driver, so it is simply not found.
MAX_PK = 2**31 - 1


# Pages of the same rows are read again and again: an id is encoded once (about 1 µs each, several
# hundred per page), then looked up (bounded: a few MB at most).
@functools.lru_cache(maxsize=32768)
def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("="))


def decode_global_id(global_id: str, field: str | None = None) -> tuple[str, int]:
    """(type name, primary key) of a global ID; malformed IDs are `BAD_USER_INPUT`, out-of-range ones `NOT_FOUND`."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        number = int(pk)
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInput("Malformed ID.", field=field) from None
    if not type_name or number <= 0:
        raise BadUserInput("Malformed ID.", field=field)
    if number > MAX_PK:
        raise NotFound("Nothing has this ID.", **({"field": field} if field else {}))
    return type_name, number


def parse_id(global_id: str, expected_type: str, field: str | None = None) -> int:
    """The primary key of an ID that must name an `expected_type`; other types are not found."""
    type_name, pk = decode_global_id(global_id, field)
    if type_name != expected_type:
        raise NotFound(f"No {expected_type} with this ID.", **({"field": field} if field else {}))
    return pk
