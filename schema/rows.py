"""GraphQL types built from database rows: each field declares the columns it reads, once.

A field of such a type says what it reads where it is declared:

- a plain attribute named after a column of the model reads that column;
- a field with a resolver says it with `metadata=columns(...)` (values paths
  such as `assignee__account__name`; `columns()` for one that reads nothing
  beyond the id, e.g. loaded by the id), and `below=` what a sub-field
  selected under it adds (`Ticket.object { customer }`).

`RowShape` works out from those declarations, once per type: every column a
full row holds (`values`, for `QuerySet.values`), the attributes a row fills
(`attributes`, for `from_row`/`from_values`), and what each field reads
(`reads`, for the page projection of `schema.tickets.preload`). A field that
says nothing is `None` in `reads` (`tests/tickets/test_projection.py` fails
on it; a page selecting it reads every column, never too few).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from strawberry.types.field import StrawberryField
from strawberry.types.private import is_private
from tortoise.models import Model

COLUMNS = "sitedesk.columns"
BELOW = "sitedesk.columns_below"
# The attribute holding a row's primary key (`id` is the Node's global ID field).
PK = "pk"


def columns(*names: str, below: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
    """`metadata=` of a field with a resolver: the columns it reads, and what each sub-field `below` adds."""
    return {COLUMNS: tuple(names), BELOW: dict(below or {})}


def model_columns(model: type[Model]) -> frozenset[str]:
    """The columns of `model`'s own table, foreign keys as `<relation>_id`."""
    meta = model._meta
    return frozenset(meta.db_fields) | {f"{name}_id" for name in meta.fk_fields}


def graphql_fields(cls: type) -> list[StrawberryField]:
    """The fields of the Strawberry type `cls` its GraphQL type has (`strawberry.Private` ones left out)."""
    fields = cls.__strawberry_definition__.fields  # type: ignore[attr-defined]
    return [f for f in fields if f.base_resolver is not None or not is_private(f.type)]


def metadata_of(field: StrawberryField) -> Mapping[str, Any]:
    found: Mapping[str, Any] = field.metadata or {}
    return found


def field_columns(field: StrawberryField, own: frozenset[str]) -> tuple[str, ...] | None:
    """The columns `field` reads: declared with it, or its own for a plain attribute; None when unsaid."""
    declared = metadata_of(field).get(COLUMNS)
    if declared is not None:
        return tuple(declared)
    if field.base_resolver is None and field.python_name in own:
        return (field.python_name,)
    return None


@dataclass(frozen=True)
class RowShape:
    """What rows of `model` hold for the GraphQL type `cls`, derived from its field declarations."""

    cls: type
    model: type[Model]
    # Python field name -> the columns it reads (None: the field does not say).
    reads: dict[str, tuple[str, ...] | None]
    # (field, sub-field) Python names -> the columns the sub-field adds when selected below the field.
    below: dict[tuple[str, str], tuple[str, ...]]
    # Dataclass attributes filled from the column of the same name (besides `pk` from `id`).
    attributes: tuple[str, ...]
    # Every column a full row holds, once each, the id first, in declaration order.
    values: tuple[str, ...]

    # `from_row(row)`: an instance of `cls` from a model instance.
    from_row: Callable[[Any], Any]
    # `from_values(row)`: an instance of `cls` from a values dict holding the id and any selection
    # of `values`; columns the row lacks are None (a projected row holds what the selected fields
    # read). The dict itself goes to the attribute `keep_values` names, if any.
    from_values: Callable[[dict[str, Any]], Any]


def _builder(cls: type, attributes: tuple[str, ...], read: str, keep: str | None = None) -> Callable[..., Any]:
    """`cls(pk=…, <attribute>=…)` from a row, written out once per type.

    Generated rather than a loop over `attributes`: a page builds one object per
    row, and keyword arguments spelled out cost half of a dict built per row.
    """
    if read == "values":
        head, pk, value = "    get = row.get\n", 'row["id"]', "get({!r})"
    else:
        head, pk, value = "", "row.id", "row.{}"
    arguments = "".join(f", {name}={value.format(name)}" for name in attributes)
    if keep is not None:
        arguments += f", {keep}=row"
    source = f"def build(row):\n{head}    return cls({PK}={pk}{arguments})\n"
    namespace: dict[str, Any] = {"cls": cls}
    # The source holds only dataclass field names (identifiers) and `keep`, from the code.
    exec(compile(source, f"<{cls.__name__}.from_{read}>", "exec"), namespace)
    return namespace["build"]  # type: ignore[no-any-return]


def row_shape(cls: type, model: type[Model], keep_values: str | None = None) -> RowShape:
    """The `RowShape` of the Strawberry type `cls` over `model`.

    `keep_values`: the attribute that holds the values dict an instance was built from, if any.
    """
    own = model_columns(model)
    fields = graphql_fields(cls)
    reads = {f.python_name: field_columns(f, own) for f in fields}
    below = {
        (f.python_name, inner): tuple(found)
        for f in fields
        for inner, found in (metadata_of(f).get(BELOW) or {}).items()
    }
    attributes = tuple(f.name for f in dataclasses.fields(cls) if f.init and f.name in own and f.name != PK)
    ordered: list[str] = ["id"]
    for found in reads.values():
        ordered.extend(found or ())
    for found in below.values():
        ordered.extend(found)
    ordered.extend(attributes)
    return RowShape(
        cls=cls,
        model=model,
        reads=reads,
        below=below,
        attributes=attributes,
        values=tuple(dict.fromkeys(ordered)),
        from_row=_builder(cls, attributes, "row"),
        from_values=_builder(cls, attributes, "values", keep_values),
    )
