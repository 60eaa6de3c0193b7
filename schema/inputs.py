"""Inputs are declared once, as Strawberry inputs; `decoded` turns one into what resolvers take.

An ID field that names a row says which type it must be:

    object_id: SiteObjectId   # Annotated[strawberry.ID, Ref("SiteObject")], declared below

A list of IDs is either `list[SiteObjectId]` (an error names the item,
`objectIds.2`) or a `…Ids` alias such as `PermissionGroupIds` (an error names the list, `groupIds`).

`decoded(input)` returns the input as a plain dict keyed by Python field
names, with every such ID replaced by its primary key, nested inputs and
lists decoded the same way, uploaded files turned into
`files.uploads.Upload`, and every `DateTime` turned into UTC (`core.dates.utc`:
SQLite stores the offset a value comes with, so only UTC compares right).
A malformed ID is `BAD_USER_INPUT`, an ID of another type `NOT_FOUND`, each
with `extensions.field` naming where it stood in GraphQL terms
(`tickets.3.objectId`).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Union

import strawberry
from strawberry.file_uploads import Upload as UploadScalar
from strawberry.types.base import has_object_definition
from strawberry.utils.str_converters import to_camel_case

from core.dates import utc
from core.errors import BadUserInput
from core.ids import parse_id
from files.uploads import Upload


@dataclass(frozen=True)
class Ref:
    """Marks an ID field as naming a row of `type_name` (a GraphQL type name)."""

    type_name: str


# The ID of one row of a type; a list of them is `list[SiteObjectId]` (an error names the item,
# `objectIds.2`). A new type named by inputs gets its alias here.
CommentId = Annotated[strawberry.ID, Ref("Comment")]
CustomerId = Annotated[strawberry.ID, Ref("Customer")]
EmployeeId = Annotated[strawberry.ID, Ref("Employee")]
FormTemplateId = Annotated[strawberry.ID, Ref("FormTemplate")]
SiteObjectId = Annotated[strawberry.ID, Ref("SiteObject")]
TicketId = Annotated[strawberry.ID, Ref("Ticket")]
TicketStateId = Annotated[strawberry.ID, Ref("TicketState")]
TicketTypeId = Annotated[strawberry.ID, Ref("TicketType")]
WebhookId = Annotated[strawberry.ID, Ref("Webhook")]
# IDs whose errors name the list (`groupIds`), not an item.
PermissionGroupIds = Annotated[list[strawberry.ID], Ref("PermissionGroup")]


@dataclass(frozen=True)
class _Field:
    python_name: str
    graphql_name: str
    annotation: Any


@functools.cache
def _fields(input_class: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(input_class, include_extras=True)
    definition = input_class.__strawberry_definition__  # type: ignore[attr-defined]
    return tuple(
        _Field(f.python_name, f.graphql_name or to_camel_case(f.python_name), hints[f.python_name])
        for f in definition.fields
    )


def _join(path: str, name: str | int) -> str:
    return f"{path}.{name}" if path else str(name)


def _without_none(annotation: Any) -> Any:
    """`X` for `X | None`."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def decoded_upload(value: Any, path: str) -> Upload:
    """A value of the `Upload` scalar (an argument's or an input's) as `files.uploads.Upload`."""
    if not hasattr(value, "file") or not hasattr(value, "filename"):
        raise BadUserInput("Expected an uploaded file.", field=path or None)
    return Upload(filename=value.filename, stream=value.file)


def _decode(value: Any, annotation: Any, path: str) -> Any:
    if value is None:
        return None
    optional = _without_none(annotation) is not annotation
    annotation = _without_none(annotation)
    if typing.get_origin(annotation) is Annotated:
        base, *extras = typing.get_args(annotation)
        marks = [e for e in extras if isinstance(e, Ref)]
        if marks and typing.get_origin(_without_none(base)) is list:
            return [parse_id(item, marks[0].type_name, path) for item in value]
        if marks:
            if optional and value == "":
                return None  # an optional ID left empty is no ID (as the hand-written decoding had it)
            return parse_id(value, marks[0].type_name, path)
        return _decode(value, base, path)
    if typing.get_origin(annotation) is list:
        [item_type] = typing.get_args(annotation)
        return [_decode(item, item_type, _join(path, i)) for i, item in enumerate(value)]
    if annotation is UploadScalar:
        return decoded_upload(value, path)
    if annotation is datetime:
        return utc(value, path or None)
    if isinstance(annotation, type) and has_object_definition(annotation) and dataclasses.is_dataclass(value):
        return decoded(value, path)
    return value


def decoded(value: Any, path: str = "") -> dict[str, Any]:
    """The Strawberry input `value` as a dict for resolvers: IDs decoded, uploads unwrapped (see module doc)."""
    return {
        f.python_name: _decode(getattr(value, f.python_name), f.annotation, _join(path, f.graphql_name))
        for f in _fields(value.__class__)
    }


def decoded_list(values: list[Any], path: str) -> list[dict[str, Any]]:
    """`decoded` for each input of a list argument, paths `path.0`, `path.1`, …"""
    return [decoded(value, _join(path, i)) for i, value in enumerate(values)]
